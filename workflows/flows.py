"""The policy-adoption process, node by node, as in DOMAIN.md's diagram.

    contact → dialogue → draft → request_approval → approval ─┬ approved → decision ─┐
                 ▲          ▲                                    └ changes ─┐          │
                 │          └───────────────────────────────────────────────┘          │
                 └──── sent back / postponed ◄── is_settled ◄───────────────────────────┘
                                                     └── adopted / rejected ──► end

Nodes only declare order, permission, assignment and that a new step is emailed to its owner
(`onCreate`, in the transaction that creates it); what a step writes lives in
`workflows.services`. Node names are stored in the database: renaming one needs a data migration.
"""

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from .audit import stamp
from .locking import ProcessLock
from .models import CLOSED_STAGES, PolicyProcess, Stage

LEAD = "workflows.lead_policyprocess"


def _page(dotted_path: str):
    """A view imported on first request, so that the flow does not import the views' services."""

    def view(request, *args, **kwargs):
        return import_string(dotted_path).as_view()(request, *args, **kwargs)

    return view


# Every project-leader step is completed on the same page, which shows that step's form.
step_page = _page("workflows.views.StepView")


class PolicyAdoptionFlow(flow.Flow):
    process_class = PolicyProcess
    # Row lock on the process: two simultaneous completions of one task complete it once.
    lock_impl = ProcessLock()
    process_title = _("ASF policy adoption")
    process_description = _("A municipality's path from first contact to a decided ASF policy.")

    start = flow.StartHandle(this.begin).Annotation(title=_("Process started")).Next(this.contact)

    contact = (
        flow.View(step_page)
        .Annotation(title=_("Record first contact"))
        .Permission(LEAD)
        .Assign(this.project_leader)
        .onCreate(this.step_opened)
        .Next(this.dialogue)
    )

    dialogue = (
        flow.View(step_page)
        .Annotation(title=_("Hold the dialogue"))
        .Permission(LEAD)
        .Assign(this.project_leader)
        .onCreate(this.step_opened)
        .Next(this.draft)
    )

    draft = (
        flow.View(step_page)
        .Annotation(title=_("Write the draft"))
        .Permission(LEAD)
        .Assign(this.project_leader)
        .onCreate(this.step_opened)
        .Next(this.request_approval)
    )

    request_approval = (
        flow.View(step_page)
        .Annotation(title=_("Request approval"))
        .Permission(LEAD)
        .Assign(this.project_leader)
        .onCreate(this.step_opened)
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
        flow.View(step_page)
        .Annotation(title=_("Record the decision"))
        .Permission(LEAD)
        .Assign(this.project_leader)
        .onCreate(this.step_opened)
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
        from . import notify

        notify.step_opened(activation.process, activation.task)

    def draft_was_approved(self, activation) -> bool:
        return activation.process.stage == Stage.AWAITING_DECISION

    def policy_was_settled(self, activation) -> bool:
        return activation.process.stage in CLOSED_STAGES
