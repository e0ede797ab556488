"""URLs of the audit trail: timelines, exports, and the administrator's personal-data pages."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.TimelineView.as_view(), name="timeline"),
    # The whole trail: made as export jobs (exports app); the old addresses lead there.
    path("export.csv", views.TrailExportView.as_view(kind="audit_csv"), name="export_csv"),
    path("archive.zip", views.TrailExportView.as_view(kind="audit_archive"), name="archive"),
    path("processes/<int:pk>/", views.ProcessTimelineView.as_view(), name="process"),
    path("processes/<int:pk>/export.csv", views.CsvExportView.as_view(), name="process_csv"),
    path("municipalities/<int:pk>/", views.MunicipalityTimelineView.as_view(), name="municipality"),
    path(
        "municipalities/<int:pk>/export.csv",
        views.CsvExportView.as_view(),
        name="municipality_csv",
    ),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/<int:pk>/", views.PersonView.as_view(), name="person"),
    path("people/<int:pk>/export/", views.PersonExportView.as_view(), name="person_export"),
    path(
        "people/<int:pk>/pseudonymise/",
        views.PseudonymiseView.as_view(),
        name="person_pseudonymise",
    ),
]
