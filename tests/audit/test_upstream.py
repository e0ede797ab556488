"""The contract with django-simple-history's undocumented attributes (`audit.upstream`): fails
the day an upgrade changes them, before the audit trail silently loses many-to-many changes or
the pseudonymisation misses a table."""

from viewflow.workflow.models import Task

from audit import upstream
from municipalities.models import Contact, Municipality
from workflows.models import FirstContact, PolicyProcess


def test_history_models_name_the_many_to_many_fields_they_record():
    approvers = PolicyProcess._meta.get_field("approvers")
    contacts = FirstContact._meta.get_field("contacts")
    assert upstream.recorded_m2m_fields(PolicyProcess.history.model) == [approvers]
    assert upstream.recorded_m2m_fields(FirstContact.history.model) == [contacts]
    assert upstream.recorded_m2m_fields(Contact.history.model) == []


def test_audited_models_are_told_from_the_others():
    assert all(upstream.is_audited(m) for m in (PolicyProcess, Contact, Municipality, Task))
    assert not upstream.is_audited(PolicyProcess.history.model)
    from audit.models import AuditEvent

    assert not upstream.is_audited(AuditEvent)
