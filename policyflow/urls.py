"""Project URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from policyflow.accessibility import STATEMENT
from workflows.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="accessibility.html", extra_context=STATEMENT),
        name="accessibility",
    ),
    path("admin/", admin.site.urls),
    path("audit/", include("audit.urls")),
    path("exports/", include("exports.urls")),
    path("asf/", include("enterprises.urls")),
    path("notifications/", include("notifications.urls")),
    path("outreach/", include("outreach.urls")),
    path("network/", include("network.urls")),
    path("follow-up/", include("followup.urls")),
    # The public progress page, no login (Swedish address: it is linked to from Swedish sites).
    path("offentlig/", include("public_progress.urls")),
    # The read-only JSON API, its OpenAPI description and docs; tokens and calendar feeds.
    path("api/", include("interfaces.api_urls")),
    path("", include("interfaces.urls")),
    path("", include("workflows.urls")),
]
