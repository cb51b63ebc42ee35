"""ORM models: one module per aggregate; import from here."""

from bookwise.models.account import ATTRIBUTE_TYPES, INHERIT_POLICIES, Account, AttributeDefinition
from bookwise.models.account_value import VALUE_HISTORY_FIELDS, VALUE_SOURCES, AccountValue
from bookwise.models.assignment import (
    OPERATION_KINDS,
    SOURCES,
    Assignment,
    AssignmentRole,
    Operation,
    OwnershipChange,
    PlanRow,
    PolicyChange,
    RequestItem,
    ScopeRow,
    Setting,
    TargetRow,
)
from bookwise.models.audit import AuditEvent
from bookwise.models.auth import ApiToken, IdempotentRequest, LoginCounter, WebSession
from bookwise.models.base import Base, utcnow
from bookwise.models.counters import ACCOUNT_COUNT_ID, AccountCount, BookCount, CoverageCount
from bookwise.models.importing import ImportOwner, ImportProblem, ImportRow
from bookwise.models.segment import Segment, SegmentMembership
from bookwise.models.upload import ImportUpload, ImportUploadChunk
from bookwise.models.user import CLI_USER_EMAIL, USER_ROLES, User

__all__ = [
    "ACCOUNT_COUNT_ID",
    "ATTRIBUTE_TYPES",
    "CLI_USER_EMAIL",
    "INHERIT_POLICIES",
    "OPERATION_KINDS",
    "SOURCES",
    "USER_ROLES",
    "VALUE_HISTORY_FIELDS",
    "VALUE_SOURCES",
    "Account",
    "AccountCount",
    "AccountValue",
    "ApiToken",
    "Assignment",
    "AssignmentRole",
    "AttributeDefinition",
    "AuditEvent",
    "Base",
    "BookCount",
    "CoverageCount",
    "IdempotentRequest",
    "ImportOwner",
    "ImportProblem",
    "ImportRow",
    "ImportUpload",
    "ImportUploadChunk",
    "LoginCounter",
    "Operation",
    "OwnershipChange",
    "PlanRow",
    "PolicyChange",
    "RequestItem",
    "ScopeRow",
    "Segment",
    "SegmentMembership",
    "Setting",
    "TargetRow",
    "User",
    "WebSession",
    "utcnow",
]
