"""The policy-adoption process, node by node: read this first (`docs/domain.md` tells the story).

    contact → dialogue → draft → request_approval → approval ─┬ approved → decision ─┐
                 ▲          ▲                                    └ changes ─┐          │
                 │          └───────────────────────────────────────────────┘          │
                 └──── sent back / postponed ◄── is_settled ◄───────────────────────────┘
                                                     └── adopted / rejected ──► end

Each node declares its order, and each project leader's step the page it shows (`StepPage`:
its form and the service in `workflows.services` that completes it); the municipal contact's
approval is answered through a task link (`workflows.task_links`). Every project leader's step
needs the lead permission, is assigned to the process's project leader and is emailed to them
when it opens (`onCreate`, in the transaction that creates it). What a step writes lives in
`workflows.services`. Node names are stored in the database: renaming one needs a data migration.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from . import forms, notify
from .audit import stamp
from .locking import ProcessLock
from .models import CLOSED_STAGES, PolicyProcess, Stage
from .pages import StepPage

LEAD = "workflows.lead_policyprocess"


def lead_step(page: StepPage) -> flow.View:
    """A project leader's step showing ``page``: lead permission, assigned to the process's
    project leader, emailed to them when it opens."""
    return flow.View(page).Permission(LEAD).Assign(this.project_leader).onCreate(this.step_opened)


class PolicyAdoptionFlow(flow.Flow):
    process_class = PolicyProcess
    # Row lock on the process: two simultaneous completions of one task complete it once.
    lock_impl = ProcessLock()
    process_title = _("ASF policy adoption")
    process_description = _("A municipality's path from first contact to a decided ASF policy.")

    start = flow.StartHandle(this.begin).Annotation(title=_("Process started")).Next(this.contact)

    contact = (
        lead_step(StepPage(forms.FirstContactForm, service="record_first_contact"))
        .Annotation(title=_("Record first contact"))
        .Next(this.dialogue)
    )

    dialogue = (
        lead_step(
            StepPage(forms.CompleteDialogueForm, service="complete_dialogue", shows_meetings=True)
        )
        .Annotation(title=_("Hold the dialogue"))
        .Next(this.draft)
    )

    draft = (
        lead_step(
            StepPage(
                forms.DraftForm,
                service="write_draft",
                initial="draft_starting_text",
                shows_latest_draft=True,
            )
        )
        .Annotation(title=_("Write the draft"))
        .Next(this.request_approval)
    )

    request_approval = (
        lead_step(
            StepPage(
                forms.RequestApprovalForm,
                service="request_approval",
                result_template="workflows/links_issued.html",
            )
        )
        .Annotation(title=_("Request approval"))
        .Next(this.approval)
    )

    approval = (
        flow.Handle(this.answered)
        .Annotation(title=_("Approval by the municipal contact"))
        .Next(this.is_approved)
    )

    is_approved = (
        flow.If(this.draft_was_approved)
        .Annotation(title=_("Approved?"))
        .Then(this.decision)
        .Else(this.draft)
    )

    decision = (
        lead_step(StepPage(forms.DecisionForm, service="record_decision"))
        .Annotation(title=_("Record the decision"))
        .Next(this.is_settled)
    )

    is_settled = (
        flow.Switch()
        .Annotation(title=_("Adopted or rejected?"))
        .Case(this.end, this.policy_was_settled)
        .Default(this.dialogue)
    )

    end = flow.End().Annotation(title=_("Process finished"))

    # Callbacks the nodes above refer to. Writes happen in services before these run.
    def begin(self, activation, *, municipality, lead):
        activation.process.municipality = municipality
        activation.process.lead = lead
        stamp(activation.process, user=lead, reason=_("Process started"))
        return activation.process

    def answered(self, activation, **kwargs):
        return activation.process

    def project_leader(self, activation):
        # A new step goes to the process's responsible leader (`lead`), not to whoever completed
        # the step before it; when the responsible leader no longer leads the county (left, or
        # deactivated) it stays unassigned for the county's leaders to claim.
        from .assignment.rules import leads

        process = activation.process
        return process.lead if leads(process.lead, process.municipality.county) else None

    def step_opened(self, activation):
        # In the transaction that opened the step: its email is in the outbox exactly when the
        # step exists.
        notify.step_opened(activation.process, activation.task)

    def draft_was_approved(self, activation) -> bool:
        return activation.process.stage == Stage.AWAITING_DECISION

    def policy_was_settled(self, activation) -> bool:
        return activation.process.stage in CLOSED_STAGES
