"""URLs of the project leader's and the steering group's workflow pages."""

from django.urls import path

from . import decision_views, link_views, views, void_views
from .assignment import views as assignment_views
from .overview import views as overview_views

app_name = "workflows"

urlpatterns = [
    path("overview/", overview_views.CountyOverviewView.as_view(), name="overview"),
    path("overview/report.pdf", overview_views.CountyReportView.as_view(), name="overview_report"),
    path(
        "overview/charts/<str:chart>.svg",
        overview_views.OverviewChartView.as_view(),
        name="overview_chart",
    ),
    path(
        "overview/municipalities/<str:code>/",
        overview_views.MunicipalityOverviewView.as_view(),
        name="overview_municipality",
    ),
    path(
        "overview/municipalities/<str:code>/report.pdf",
        overview_views.MunicipalityReportView.as_view(),
        name="overview_municipality_report",
    ),
    path("tasks/", views.InboxView.as_view(), name="inbox"),
    path("tasks/<int:task_pk>/", views.StepView.as_view(), name="step"),
    path("tasks/<int:task_pk>/claim/", assignment_views.ClaimStepView.as_view(), name="claim"),
    path(
        "tasks/<int:task_pk>/hand-over/",
        assignment_views.HandOverStepView.as_view(),
        name="hand_over_step",
    ),
    path(
        "processes/<int:pk>/hand-over/",
        assignment_views.HandOverProcessView.as_view(),
        name="hand_over_process",
    ),
    path(
        "leaders/<int:user_pk>/work/",
        assignment_views.PersonWorkView.as_view(),
        name="person_work",
    ),
    path("processes/", views.ProcessListView.as_view(), name="processes"),
    path("processes/start/", views.StartProcessView.as_view(), name="start"),
    path("processes/start-county/", views.StartCountyView.as_view(), name="start_county"),
    path("processes/<int:pk>/", views.ProcessDetailView.as_view(), name="process"),
    path("processes/<int:pk>/chart.svg", views.ProcessChartView.as_view(), name="chart"),
    path("processes/<int:pk>/meetings/", views.AddMeetingView.as_view(), name="add_meeting"),
    path("processes/<int:pk>/links/", link_views.IssueLinkView.as_view(), name="issue_link"),
    path(
        "processes/<int:pk>/links/<int:link_pk>/revoke/",
        link_views.RevokeLinkView.as_view(),
        name="revoke_link",
    ),
    path("processes/<int:pk>/answer/", link_views.RecordAnswerView.as_view(), name="record_answer"),
    path(
        "processes/<int:pk>/decisions/<int:decision_pk>/minutes/",
        decision_views.MinutesFileView.as_view(),
        name="minutes_file",
    ),
    path(
        "processes/<int:pk>/decisions/<int:decision_pk>/legal-force/",
        decision_views.RecordLegalForceView.as_view(),
        name="record_legal_force",
    ),
    path(
        "processes/<int:pk>/decisions/<int:decision_pk>/appeal/",
        decision_views.RecordAppealView.as_view(),
        name="record_appeal",
    ),
    path(
        "processes/<int:pk>/decisions/<int:decision_pk>/correct/",
        void_views.CorrectDecisionView.as_view(),
        name="correct_decision",
    ),
    path(
        "processes/<int:pk>/void/<str:kind>/<int:record_pk>/",
        void_views.VoidRecordView.as_view(),
        name="void_record",
    ),
    # The emailed task link, /l/open/?t=<token>: the token is in the query string, which the
    # access log leaves out, and leaves the URL after the first GET.
    path("l/open/", link_views.link_open, name="link_open"),
    path("l/", link_views.LinkAnswerView.as_view(), name="link_answer"),
    path("l/thanks/", link_views.link_receipt, name="link_receipt"),
    path(
        "processes/<int:pk>/drafts/<int:version>/",
        views.DraftDetailView.as_view(),
        name="draft",
    ),
]
