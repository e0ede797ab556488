"""Swedish names, titles and texts the generated records are made of (all invented)."""

import random
import unicodedata

FIRST_NAMES = [
    "Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Kerstin", "Emma", "Ingrid", "Malin",
    "Johanna", "Linnéa", "Elin", "Sofia", "Åsa", "Erik", "Lars", "Karl", "Anders", "Johan",
    "Per", "Nils", "Mikael", "Jan", "Fredrik", "Magnus", "Björn", "Oskar", "Jonas", "Gustav",
    "Mats", "Ulf", "Hanna", "Ida", "Frida", "Amir", "Fatima", "Ali", "Leyla", "Mohammed",
    "Birgitta", "Camilla", "Helena", "Petra", "Therese", "Tobias", "Henrik", "Daniel", "Göran",
    "Ylva",
]  # fmt: skip

LAST_NAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson",
    "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren",
    "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg",
    "Sjöberg", "Åberg", "Öberg", "Ekström", "Holm", "Nyström", "Hedlund", "Falk", "Sundberg",
]  # fmt: skip

TITLES = [
    "Näringslivsutvecklare", "Upphandlingschef", "Kommunsekreterare", "Arbetsmarknadschef",
    "Utvecklingsstrateg", "Socialchef", "Verksamhetsutvecklare", "Kommundirektör", "Upphandlare",
    "Folkhälsostrateg", "Näringslivschef", "Hållbarhetsstrateg",
]  # fmt: skip

OTHER_PARTICIPANTS = [
    "Coompanion", "ASF-nätverket", "Arbetsförmedlingen", "Samordningsförbundet",
    "ett lokalt ASF (återbruk)", "ett lokalt ASF (café och catering)", "Region Kronoberg",
]  # fmt: skip

MEETING_NOTES = [
    "Genomgång av Tillväxtverkets definition av arbetsintegrerande sociala företag.",
    "Diskussion om reserverad upphandling och hur kommunen kan dela upp kontrakt i mindre delar.",
    "Kommunen vill pröva idéburet offentligt partnerskap (IOP) med ett återbruksföretag.",
    "Frågor om konkurrensneutralitet och statsstöd; juristen återkommer.",
    "Dialog inför upphandling av städtjänster: sociala krav och arbetsträning.",
    "Arbetsmarknadsenheten beskriver praktikplatser hos ASF i kommunen.",
    "Genomgång av policyutkastets kundperspektiv med upphandlingsenheten.",
    "Politisk förankring: ärendet planeras till kommunstyrelsens arbetsutskott.",
]

COMPETITION_SECTIONS = [
    "Kommunen kan reservera deltagandet i upphandlingar för leverantörer där minst 30 procent av "
    "de anställda har en funktionsnedsättning eller svårigheter att komma in på "
    "arbetsmarknaden. Idéburet offentligt partnerskap används där det inte utgör ett otillåtet "
    "direktköp eller statsstöd, och kommunens egen säljverksamhet följer konkurrenslagens regler "
    "om offentlig säljverksamhet.",
    "Samverkan med arbetsintegrerande sociala företag sker med respekt för konkurrensneutralitet. "
    "Kommunen prövar i varje enskilt fall om stöd kan utgöra statsstöd enligt EU:s regler och "
    "använder reserverade kontrakt enligt 4 kap. 18 § LOU när förutsättningarna finns.",
]

CUSTOMER_SECTIONS = [
    "Kommunen köper arbetsträning och tjänster av arbetsintegrerande sociala företag, delar upp "
    "kontrakt i mindre delar där det är möjligt och för dialog med marknaden före upphandling. "
    "Sociala hänsyn ställs som krav eller villkor där det är lämpligt.",
    "Kommunen ska som kund underlätta för ASF att lämna anbud: små kontraktsdelar, "
    "direktupphandling inom gällande gränser, tydliga sociala krav och dialogmöten före "
    "upphandling. En namngiven kontaktperson finns på näringslivsenheten.",
]

CHANGE_COMMENTS = [
    "Förtydliga skrivningen om reserverad upphandling.",
    "Lägg till en namngiven kontaktperson i kommunen.",
    "Kundperspektivet behöver exempel på små kontraktsdelar.",
    "Juristen vill ha en mening om statsstöd och IOP.",
    "Ändra 'policy' till 'riktlinje': beslutet tas av KS.",
]


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def ascii_slug(text: str) -> str:
    """Växjö → vaxjo, for invented email addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def email_for(first: str, last: str, domain: str) -> str:
    return f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"


def case_number(rng: random.Random, year: int, code: str) -> str:
    """Diarienummer in the formats municipalities use: they differ from one to the next."""
    style = int(code) % 4
    number = rng.randint(10, 2400)
    if style == 0:
        return f"KS {year}/{number}"
    if style == 1:
        return f"KSN-{year}-{number}"
    if style == 2:
        return f"{year % 100}RK{number}"
    return f"KS.{year}.{number}"
