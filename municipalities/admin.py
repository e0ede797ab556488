"""Administrators manage counties, municipalities and contacts; every change is in the history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, County, Municipality


@admin.register(County)
class CountyAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Municipality)
class MunicipalityAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "county"]
    list_filter = ["county"]
    search_fields = ["code", "name"]
    list_select_related = ["county"]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "title", "email", "municipality", "is_active", "language"]
    list_filter = ["is_active", "language", "municipality__county"]
    search_fields = ["name", "email", "municipality__name"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]

    def has_delete_permission(self, request, obj=None):
        # Contacts are referenced by the public record; deactivate instead.
        return False
