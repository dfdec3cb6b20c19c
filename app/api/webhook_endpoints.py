"""Event webhook endpoints, their delivery log, and resending a delivery."""
from __future__ import annotations

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.lookups import row_id
from app.api.pagination import page
from app.api.schemas import PageQuery, page_of
from app.api.schemas_admin import DeliveryOut, EndpointCreate, EndpointCreated, EndpointOut
from app.models import WebhookDelivery, WebhookEndpoint
from app.services import webhooks

TAG = "Webhooks"


@bp.get("/webhook-endpoints")
@requires("webhooks")
@bp.input(PageQuery, location="query")
@bp.output(page_of(EndpointOut, "EndpointPage"))
@bp.doc(tags=[TAG], summary="The tenant's webhook endpoints")
def list_endpoints(query_data):
    query = webhooks.endpoints_query(tenant())
    items, after = page(query, WebhookEndpoint.id, limit=query_data["limit"], after=query_data.get("after"),
                        ascending=True)
    return {"items": items, "next": after}


@bp.post("/webhook-endpoints")
@requires("webhooks")
@bp.input(EndpointCreate)
@bp.output(EndpointCreated, status_code=201)
@bp.doc(tags=[TAG], summary="Add an endpoint; the signing secret is shown once")
def create_endpoint(json_data):
    endpoint, secret = webhooks.create_endpoint(tenant(), json_data["url"], events=json_data["events"],
                                                description=json_data.get("description"), by=token())
    endpoint.secret = secret  # shown in this response only; stored encrypted
    return endpoint


@bp.delete("/webhook-endpoints/<int:endpoint_id>")
@requires("webhooks")
@bp.output({}, status_code=204)
@bp.doc(tags=[TAG], summary="Remove an endpoint and its delivery log")
def delete_endpoint(endpoint_id: int):
    webhooks.delete_endpoint(webhooks.get_endpoint(tenant(), row_id(endpoint_id)), by=token())
    return ""


@bp.get("/webhook-endpoints/<int:endpoint_id>/deliveries")
@requires("webhooks")
@bp.input(PageQuery, location="query")
@bp.output(page_of(DeliveryOut, "DeliveryPage"))
@bp.doc(tags=[TAG], summary="The endpoint's deliveries, newest first")
def list_deliveries(endpoint_id: int, query_data):
    endpoint = webhooks.get_endpoint(tenant(), row_id(endpoint_id))
    items, after = page(webhooks.deliveries_query(tenant(), endpoint), WebhookDelivery.id,
                        limit=query_data["limit"], after=query_data.get("after"))
    return {"items": items, "next": after}


@bp.post("/deliveries/<int:delivery_id>/resend")
@requires("webhooks")
@bp.output(DeliveryOut, status_code=201)
@bp.doc(tags=[TAG], summary="Send the same event (same id and body) again")
def resend_delivery(delivery_id: int):
    return webhooks.resend(webhooks.get_delivery(tenant(), row_id(delivery_id)))
