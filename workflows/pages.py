"""What a project leader's step shows and does, declared on its node in `workflows.flows`.

A `StepPage` is the node's view in viewflow's sense (`flow.View(StepPage(...))`, and the node's
public `view` property returns it). `views.StepView` serves every step at `tasks/<task_pk>/`:
it reads the page of the task's node and shows its form; a valid form is handed to the named
service, which completes the step. The service is named, not imported, because `flows` is the
root of the app's imports: `services` and the selectors import the flow's nodes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StepPage:
    # The form the page shows; it is given the process (``process=``) and, if bound, the POST.
    form_class: type
    # The function of `workflows.services` that completes the step, called with the task, the
    # user and the form's cleaned data as keyword arguments.
    service: str
    # A function of `workflows.services` giving the empty form's initial values (a dataclass).
    initial: str | None = None
    template: str = "workflows/step.html"
    # Shown with the service's result instead of redirecting to the process page (the new task
    # links' URLs are shown once).
    result_template: str | None = None
    # The page shows the latest draft beside the form (and what the municipality asked to change).
    shows_latest_draft: bool = False
    # The page lists the process's meetings and records a new one in place.
    shows_meetings: bool = False
