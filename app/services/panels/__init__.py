"""VPN panel adapters, one module per panel type, behind `base.PanelAdapter`."""
from __future__ import annotations

import json

from app.models import Panel, PanelKind
from app.services import crypto
from app.services.panels.base import PanelAdapter
from app.services.panels.marzban import MarzbanAdapter, PasarGuardAdapter
from app.services.panels.remnawave import RemnawaveAdapter
from app.services.panels.xui import XuiAdapter

ADAPTERS: dict[str, type[PanelAdapter]] = {
    PanelKind.MARZBAN.value: MarzbanAdapter,
    PanelKind.PASARGUARD.value: PasarGuardAdapter,
    PanelKind.REMNAWAVE.value: RemnawaveAdapter,
    PanelKind.XUI.value: XuiAdapter,
}


def credentials_of(panel: Panel) -> dict:
    """The panel's decrypted credentials (never log or render them)."""
    return json.loads(crypto.decrypt(panel.credentials_encrypted))


def adapter_for(panel: Panel) -> PanelAdapter:
    """An adapter speaking this panel's API with its credentials."""
    return ADAPTERS[panel.kind](panel.base_url, credentials_of(panel),
                                subscription_base_url=panel.subscription_base_url)
