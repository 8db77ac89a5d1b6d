"""ORM models of every layer, in one package so Alembic sees the whole schema."""
from .auth import Unit, User, UserRole
from .process import ProcessDefinition, ProcessInstance, HumanTask, InstanceEvent
from .calendar import CalendarOverride
from .catalog import CatalogItem, CatalogItemUnit, CatalogVersion, DirectoryContact
from .calls import CallEvent, CallRating, CallRecord
from .admission import AdmissionConsultation, AdmittedTask, AdmittedTaskTownship, TaskDecline
from .designer import DesignerDraft, InstanceMigration

__all__ = ["Unit", "User", "UserRole", "ProcessDefinition", "ProcessInstance", "HumanTask",
           "InstanceEvent", "CalendarOverride", "CatalogVersion", "CatalogItem", "CatalogItemUnit",
           "DirectoryContact", "CallRecord", "CallEvent", "CallRating", "AdmissionConsultation", "AdmittedTask",
           "AdmittedTaskTownship", "TaskDecline", "DesignerDraft", "InstanceMigration"]
