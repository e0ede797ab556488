"""factory-boy factories for the project's models."""

import factory
from django.contrib.auth import get_user_model

from municipalities.models import Contact


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@policyflow.example")
    password = factory.django.Password("secret-pass-123")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Kontakt {n}")
    title = "Näringslivsutvecklare"
    email = factory.Sequence(lambda n: f"kontakt{n}@kommun.example")
    language = "sv"
