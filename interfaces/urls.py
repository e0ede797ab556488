"""Addresses of the integrations page and the calendar feeds."""

from django.urls import path

from . import views

app_name = "interfaces"

urlpatterns = [
    path("integrations/", views.IntegrationsView.as_view(), name="integrations"),
    path("integrations/tokens/", views.CreateTokenView.as_view(), name="create_token"),
    path(
        "integrations/tokens/<int:pk>/revoke/",
        views.RevokeTokenView.as_view(),
        name="revoke_token",
    ),
    path("integrations/calendar/", views.IssueFeedView.as_view(), name="issue_feed"),
    path("integrations/calendar/revoke/", views.RevokeFeedView.as_view(), name="revoke_feed"),
    # The calendar application's address: the secret is the credential (no cookie is sent).
    path("calendar/<str:token>.ics", views.calendar_feed, name="feed"),
]
