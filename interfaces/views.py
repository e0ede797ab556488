"""Pages of the open interfaces: the integrations page (a user's API tokens and calendar
address), the calendar feed itself (ICS, opened by the secret in its address), and the API's
documentation rendered from its OpenAPI description."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from workflows.views import form_errors_from

from . import calendar, docs, services
from .forms import NewTokenForm
from .models import ApiToken

READ = services.READ


class IntegrationsMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = READ


def _page(request, *, form=None, new_key=None, new_token=None, status=200):
    user = request.user
    may_choose = user.has_perm(services.MANAGE_TOKENS)
    tokens = ApiToken.objects.select_related("user", "created_by", "revoked_by")
    tokens = tokens if may_choose else tokens.filter(user=user)
    feed = services.live_feed(user)
    feed_url = (
        settings.SITE_URL + reverse("interfaces:feed", args=[services.feed_token(feed)])
        if feed
        else None
    )
    return render(
        request,
        "interfaces/integrations.html",
        {
            "form": form or NewTokenForm(may_choose_user=may_choose),
            "tokens": tokens[:100],
            "new_key": new_key,
            "new_token": new_token,
            "feed": feed,
            "feed_url": feed_url,
            "api_url": settings.SITE_URL + "/api/v1/",
        },
        status=status,
    )


class IntegrationsView(IntegrationsMixin, View):
    def get(self, request):
        return _page(request)


class CreateTokenView(IntegrationsMixin, View):
    """POST: a new token. The answer shows its key once, and only this answer (no redirect: the
    key is kept nowhere to be shown again)."""

    def post(self, request):
        may_choose = request.user.has_perm(services.MANAGE_TOKENS)
        form = NewTokenForm(request.POST, may_choose_user=may_choose)
        if not form.is_valid():
            return _page(request, form=form, status=400)
        owner = form.cleaned_data.get("user") or request.user
        try:
            token, key = services.create_api_token(
                user=owner, name=form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return _page(request, form=form, status=400)
        response = _page(request, new_key=key, new_token=token)
        response["Cache-Control"] = "no-store"
        return response


class RevokeTokenView(IntegrationsMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk)
        if not services.may_manage_tokens_of(request.user, token.user):
            raise Http404  # another user's token: as if it did not exist
        services.revoke_api_token(token=token, actor=request.user)
        messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
        return redirect("interfaces:integrations")


class IssueFeedView(IntegrationsMixin, View):
    def post(self, request):
        had_feed = services.live_feed(request.user) is not None
        services.issue_calendar_feed(user=request.user)
        messages.success(
            request,
            _("Your calendar has a new address; the old one no longer works.")
            if had_feed
            else _("Your calendar address is ready."),
        )
        return redirect("interfaces:integrations")


class RevokeFeedView(IntegrationsMixin, View):
    def post(self, request):
        services.revoke_calendar_feed(user=request.user)
        messages.success(request, _("Your calendar address no longer works."))
        return redirect("interfaces:integrations")


@require_safe
def calendar_feed(request, token: str):
    """The ICS file. The secret in the address is the credential (a calendar application sends
    no cookie); a revoked or unknown address is 404."""
    feed = services.feed_by_token(token)
    if feed is None or not feed.user.has_perm(READ):
        raise Http404
    with translation.override(settings.LANGUAGE_CODE):
        body = calendar.build_feed(feed.user, site_url=settings.SITE_URL)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="policyflow.ics"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


class ApiDocsView(TemplateView):
    """The API's reference, rendered on the server from its OpenAPI description: readable
    without JavaScript, in the page's language, and within the site's content policy."""

    template_name = "interfaces/api_docs.html"

    def get_context_data(self, **kwargs):
        language = translation.get_language()
        key = f"api-docs:{language}"
        operations = cache.get(key)
        if operations is None:
            operations = docs.operations()
            cache.set(key, operations, settings.PAGE_CACHE_SECONDS)
        return super().get_context_data(
            operations=operations, schema_url=reverse("api:schema"), **kwargs
        )
