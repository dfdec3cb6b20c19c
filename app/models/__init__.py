"""The domain model, one module per area."""
from app.models.bank_messages import BankMessage, BankMessageStatus
from app.models.bots import ApiToken, Bot, BotSetting, BotStatus, FeatureFlag
from app.models.broadcasts import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from app.models.catalog import (
    SLOT_SECONDS,
    Plan,
    PlanSaleCount,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    SubscriptionStatusCount,
)
from app.models.channels import (
    ChatGrant,
    ChatPresence,
    GrantState,
    PaidChat,
    StarPayment,
    StarPaymentStatus,
    plan_chats,
)
from app.models.growth import (
    BadgeDefinition,
    MemberBadge,
    Promocode,
    PromocodeKind,
    PromocodeRedemption,
)
from app.models.integration import IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from app.models.ledger import LedgerAccount, LedgerEntry
from app.models.members import BotSession, Member, MemberVisitCount, MemberXpCount
from app.models.online_payments import OnlinePayment, OnlinePaymentPurpose, OnlinePaymentStatus
from app.models.ops import AuditLog, BackupRun, DailyStat, ProcessedUpdate, TenantNotice
from app.models.outbox import OutboxMessage, OutboxStatus
from app.models.panels import OnCancel, Panel, PanelKind, PanelUser, PanelUserStatus, PlanPanel
from app.models.payments import (
    OPEN_RECEIPT_STATUSES,
    PaymentCard,
    Receipt,
    ReceiptPurpose,
    ReceiptStatus,
)
from app.models.platform_payments import PLATFORM_RECEIPT_STATUSES, PlatformCard, PlatformReceipt
from app.models.receipt_fingerprints import ReceiptFingerprint
from app.models.support import Ticket, TicketCopy, TicketMessage, TicketStatus
from app.models.tenancy import (
    Account,
    CardRotation,
    Membership,
    PlatformSetting,
    Role,
    StaffInvitation,
    Tenant,
)
from app.models.types import utcnow

__all__ = [
    "BankMessage", "BankMessageStatus",
    "Account", "ApiToken", "AuditLog", "BackupRun", "BadgeDefinition", "Bot", "BotSession", "BotSetting", "BotStatus",
    "Broadcast", "BroadcastDelivery", "BroadcastStatus", "DeliveryStatus", "CardRotation", "ChatGrant", "ChatPresence",
    "GrantState", "PaidChat", "StarPayment", "StarPaymentStatus", "plan_chats", "DailyStat", "FeatureFlag",
    "IdempotencyRecord", "LedgerAccount",
    "LedgerEntry", "Member", "MemberBadge", "MemberVisitCount", "MemberXpCount", "Membership",
    "OPEN_RECEIPT_STATUSES", "OnCancel",
    "OnlinePayment", "OnlinePaymentPurpose", "OnlinePaymentStatus",
    "OutboxMessage", "OutboxStatus", "Panel", "PanelKind", "PanelUser", "PanelUserStatus", "PlanPanel",
    "PaymentCard", "Plan", "PlanSaleCount", "SLOT_SECONDS", "PLATFORM_RECEIPT_STATUSES", "PlatformCard", "PlatformReceipt", "PlatformSetting", "ProcessedUpdate", "Promocode", "PromocodeKind",
    "PromocodeRedemption", "Receipt", "ReceiptFingerprint", "ReceiptPurpose", "ReceiptStatus", "Role",
    "StaffInvitation", "Subscription", "SubscriptionSource", "SubscriptionStatus", "SubscriptionStatusCount", "Tenant", "TenantNotice", "Ticket",
    "TicketCopy", "TicketMessage", "TicketStatus", "WebhookDelivery", "WebhookEndpoint", "utcnow",
]
