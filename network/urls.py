"""URLs of the collaboration organisation (samverkansorganisation)."""

from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("", views.OrganisationView.as_view(), name="organisation"),
    path("<str:code>/form/", views.FormOrganisationView.as_view(), name="form_organisation"),
    path("<str:code>/members/new/", views.AddMemberView.as_view(), name="add_member"),
    path("<str:code>/meetings/new/", views.AddMeetingView.as_view(), name="add_meeting"),
    path("<str:code>/milestones/new/", views.AddMilestoneView.as_view(), name="add_milestone"),
    path("members/<int:pk>/leave/", views.EndMembershipView.as_view(), name="end_membership"),
    path("meetings/<int:pk>/", views.MeetingView.as_view(), name="meeting"),
    path("meetings/<int:pk>/edit/", views.EditMeetingView.as_view(), name="edit_meeting"),
    path("meetings/<int:pk>/minutes/", views.MinutesFileView.as_view(), name="minutes_file"),
    path("milestones/<int:pk>/edit/", views.EditMilestoneView.as_view(), name="edit_milestone"),
]
