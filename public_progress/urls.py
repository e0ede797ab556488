"""Addresses of the public progress page, by readable names: /offentlig/kronoberg/ and
/offentlig/kronoberg/vaxjo/ (a county's or a municipality's code redirects to them)."""

from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.CountyListView.as_view(), name="counties"),
    path("<str:county>/", views.CountyPageView.as_view(), name="county"),
    path(
        "<str:county>/<str:municipality>/",
        views.MunicipalityPageView.as_view(),
        name="municipality",
    ),
    path(
        "<str:county>/<str:municipality>/policy.pdf",
        views.AdoptedPolicyPdfView.as_view(),
        name="policy_pdf",
    ),
]
