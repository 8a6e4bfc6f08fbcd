"""Synthetic courses for the scale seed: Dutch titles and lesson texts of realistic length.

The texts are general exercise guidance put together from the pieces below, so twenty courses
of a few hundred lessons read like real ones (headings, lists, a few hundred words per lesson)
without claiming anything about anyone's health. They are built as course packages and imported
the way `kern import` imports a folder, so the package schema checks every field.
"""

import random
from dataclasses import dataclass
from typing import Any

from api.catalog.packages.schema import (
    CourseManifest,
    CoursePackage,
    LessonMeta,
    ModuleManifest,
    PackageLesson,
)
from api.kit.slugs import slugify

# The content does not depend on --seed: the benchmark finds the same course slugs every time.
CONTENT_SEED = 20261122


@dataclass(frozen=True)
class Theme:
    """One synthetic course: what it is about and how it is sold and scheduled."""

    slug: str
    title: str
    subtitle: str
    focus: str  # what the learner works on, as it reads in a sentence ("je onderrug")
    kinds: tuple[str, str]  # the groups of exercises it draws from
    drip: bool
    price_cents: int
    instructor: int  # index into INSTRUCTORS


INSTRUCTORS = (
    ("Marieke Bakker", "instructeur1"),
    ("Sanne Visser", "instructeur2"),
    ("Joris van Dijk", "instructeur3"),
    ("Fatima el Amrani", "instructeur4"),
    ("Eva Mulder", "instructeur5"),
)

THEMES = (
    Theme("rug-in-balans", "Rug in balans", "Rustig bewegen voor een soepele onderrug",
          "je onderrug", ("rug", "kracht"), True, 4900, 0),
    Theme("soepele-schouders-en-nek", "Soepele schouders en nek",
          "Minder vastzitten na een dag achter je scherm", "je schouders en je nek",
          ("schouder", "adem"), False, 2900, 1),
    Theme("bekkenbodem-voor-mannen", "Bekkenbodem voor mannen",
          "Leer je bekkenbodem kennen, ook als niemand je dat ooit uitlegde", "je bekkenbodem",
          ("bekken", "kracht"), True, 3900, 2),
    Theme("sterk-de-overgang-door", "Sterk de overgang door",
          "Kracht, balans en rust in een periode van verandering", "je kracht en je balans",
          ("kracht", "balans"), True, 5900, 3),
    Theme("ademruimte", "Ademruimte", "Korte ademoefeningen voor drukke dagen", "je adem",
          ("adem", "schouder"), False, 0, 4),
    Theme("goed-zitten-op-je-werk", "Goed zitten op je werk",
          "Kleine aanpassingen en pauzes die je houding helpen", "je houding aan je bureau",
          ("schouder", "rug"), False, 0, 0),
    Theme("heupen-in-beweging", "Heupen in beweging",
          "Soepele heupen voor wandelen, fietsen en traplopen", "je heupen",
          ("kracht", "rug"), True, 3900, 1),
    Theme("een-sterke-romp", "Een sterke romp", "Buik, rug en bekkenbodem die samenwerken",
          "je romp", ("kracht", "bekken"), True, 4900, 2),
    Theme("ontspannen-naar-bed", "Ontspannen naar bed", "Een rustige avondroutine van tien minuten",
          "je avondroutine", ("adem", "rug"), False, 0, 3),
    Theme("wandelen-met-aandacht", "Wandelen met aandacht",
          "Van korte rondjes naar een stevige wandeling", "je wandelingen",
          ("balans", "kracht"), True, 0, 4),
    Theme("hardlopen-met-een-sterke-basis", "Hardlopen met een sterke basis",
          "Stap voor stap voorbereiden op je eerste rondjes", "je looptraining",
          ("kracht", "bekken"), True, 6900, 0),
    Theme("fit-na-je-zestigste", "Fit na je zestigste", "Blijven bewegen met kracht en evenwicht",
          "je evenwicht", ("balans", "kracht"), True, 4500, 1),
    Theme("balans-en-stabiliteit", "Balans en stabiliteit",
          "Stevig op je benen in huis en op straat", "je stabiliteit", ("balans", "rug"),
          False, 2500, 2),
    Theme("tillen-zonder-zorgen", "Tillen zonder zorgen",
          "Boodschappen, kinderen en kratten: slim tillen in je dag", "hoe je tilt",
          ("kracht", "bekken"), False, 0, 3),
    Theme("ontspannen-kaak-en-nek", "Ontspannen kaak en nek",
          "Spanning in je gezicht en nek opmerken en loslaten", "je kaak en je nek",
          ("schouder", "adem"), False, 1900, 4),
    Theme("actieve-pauzes-voor-thuiswerkers", "Actieve pauzes voor thuiswerkers",
          "Vijf minuten bewegen tussen je afspraken door", "je werkdag",
          ("schouder", "kracht"), False, 0, 0),
    Theme("rustige-yoga-voor-je-bekken", "Rustige yoga voor je bekken",
          "Zachte houdingen en ademwerk voor rust in je onderlijf", "je bekken",
          ("bekken", "adem"), True, 3500, 1),
    Theme("sterke-voeten-en-enkels", "Sterke voeten en enkels", "De basis onder elke stap",
          "je voeten en enkels", ("balans", "kracht"), False, 2900, 2),
    Theme("tien-minuten-ochtendmobiliteit", "Tien minuten ochtendmobiliteit",
          "Soepel de dag in, zonder haast", "je ochtend", ("rug", "schouder"), False, 0, 3),
    Theme("pilates-de-basis", "Pilates: de basis",
          "Rustig en gecontroleerd bewegen vanuit je midden", "je midden", ("kracht", "bekken"),
          True, 5500, 4),
)  # fmt: skip

# Exercises by group: title, instruction, parameters (hold, relax, reps, sets, rest, side), cues.
Dose = tuple[int, int, int, int, int, str | None]
EXERCISES: dict[str, list[tuple[str, str, Dose, list[str]]]] = {
    "bekken": [
        ("Zacht aanspannen en loslaten",
         "Lig of zit ontspannen. Adem uit en til je bekkenbodem zacht naar binnen en omhoog. "
         "Houd vast zolang de teller loopt en laat daarna helemaal los.",
         (5, 10, 8, 2, 30, None), ["Ongeveer een derde van je kracht", "Adem gewoon door"]),
        ("Snelle aanspanningen",
         "Span je bekkenbodem kort en stevig aan en laat meteen weer los. Laat de spieren tussen "
         "twee aanspanningen helemaal tot rust komen.",
         (1, 3, 10, 2, 30, None), ["Kort en krachtig", "Na elke aanspanning helemaal los"]),
        ("Bekken kantelen op je rug",
         "Lig op je rug met je knieën gebogen. Kantel je bekken zacht naar achteren zodat je "
         "onderrug de mat raakt, en rol daarna rustig terug.",
         (3, 3, 10, 2, 0, None), ["Beweeg rustig", "Billen blijven op de mat"]),
        ("De brug",
         "Lig op je rug met je voeten plat. Adem uit, span je bekkenbodem zacht aan en til je "
         "billen een stukje op. Zak langzaam terug en adem in.",
         (5, 5, 8, 2, 45, None), ["Duw door je hielen", "Adem uit bij het optillen"]),
    ],
    "rug": [
        ("Kat en koe",
         "Zet je handen en knieën op de mat. Maak je rug bol terwijl je uitademt en laat hem "
         "daarna zacht hol zakken terwijl je inademt.",
         (2, 2, 10, 2, 0, None), ["Beweeg wervel voor wervel", "Adem mee met de beweging"]),
        ("Vogel-hond",
         "Op handen en knieën strek je je rechterarm en linkerbeen tegelijk uit. Houd even vast, "
         "zet ze terug en wissel van kant.",
         (5, 3, 6, 2, 30, "both"), ["Bekken blijft stil", "Reik ver, niet hoog"]),
        ("Knieën opzij laten zakken",
         "Lig op je rug met je knieën gebogen en laat ze samen rustig naar één kant zakken. Kom "
         "via het midden terug en ga naar de andere kant.",
         (3, 3, 8, 1, 0, "both"), ["Schouders blijven op de mat", "Klein bewegen is genoeg"]),
        ("Bovenrug draaien in zijlig",
         "Lig op je zij met je knieën gebogen en je armen voor je. Open je bovenste arm naar de "
         "andere kant en kijk je hand na. Kom rustig terug.",
         (3, 3, 8, 1, 0, "both"), ["Knieën blijven op elkaar"]),
    ],
    "schouder": [
        ("Schouders rollen",
         "Zit of sta rechtop. Rol je schouders langzaam naar achteren in grote rondjes en laat "
         "ze daarna zwaar worden.",
         (2, 2, 10, 1, 0, None), ["Grote, langzame rondjes"]),
        ("Kin intrekken",
         "Zit rechtop en schuif je kin zacht naar achteren, alsof je een dubbele kin maakt. Houd "
         "even vast en laat los.",
         (5, 5, 8, 2, 0, None), ["Kijk recht vooruit", "Maak je nek lang"]),
        ("Armen langs de muur",
         "Sta met je rug tegen de muur en je armen in een W-vorm. Schuif je armen langzaam "
         "omhoog en weer omlaag, zonder je onderrug hol te trekken.",
         (3, 3, 10, 2, 30, None), ["Ellebogen blijven tegen de muur"]),
        ("Kaak en schouders loslaten",
         "Trek je schouders zacht op naar je oren, houd even vast en laat ze vallen. Laat "
         "tegelijk je kaak los, zodat je tanden elkaar niet raken.",
         (5, 5, 6, 1, 0, None), ["Tong rust tegen je gehemelte"]),
    ],
    "balans": [
        ("Staan op één been",
         "Sta naast een stoel of aanrecht en til één voet een klein stukje op. Probeer rustig te "
         "blijven staan en wissel daarna van been.",
         (15, 5, 4, 2, 0, "both"), ["Houd een stoel binnen handbereik", "Kijk naar een vast punt"]),
        ("Hielen heffen",
         "Sta rechtop met je handen licht op een stoelleuning. Kom rustig op je tenen en zak "
         "langzaam terug op je hielen.",
         (2, 2, 12, 2, 30, None), ["Langzaam omlaag"]),
        ("Tandem staan",
         "Zet je voeten achter elkaar, de hiel van je voorste voet tegen de tenen van je "
         "achterste. Blijf zo rustig staan en wissel dan.",
         (20, 10, 3, 1, 0, "both"), ["Adem rustig door"]),
    ],
    "kracht": [
        ("Opstaan uit een stoel",
         "Zit op het voorste deel van een stevige stoel. Leun iets voorover, span je bekkenbodem "
         "aan en kom rustig overeind. Ga langzaam weer zitten.",
         (2, 3, 8, 3, 60, None), ["Neus boven je tenen", "Adem uit bij het opstaan"]),
        ("Plank op je knieën",
         "Steun op je onderarmen en je knieën en maak een rechte lijn van je hoofd tot je "
         "knieën. Houd vast zolang het rustig lukt.",
         (15, 15, 4, 2, 45, None), ["Rechte lijn van hoofd tot knieën", "Blijf ademen"]),
        ("Schelp in zijlig",
         "Lig op je zij met je knieën gebogen en je voeten op elkaar. Open je bovenste knie als "
         "een schelp en sluit hem langzaam weer.",
         (3, 3, 10, 2, 30, "both"), ["Bekken rolt niet mee"]),
        ("Kleine squat",
         "Sta met je voeten op heupbreedte en zak een klein stukje door je knieën, alsof je gaat "
         "zitten. Kom via je hielen weer omhoog.",
         (3, 3, 10, 2, 45, None), ["Knieën wijzen naar je tenen", "Adem uit bij het omhoogkomen"]),
    ],
}  # fmt: skip

# Breathing patterns: title, instruction, (inhale, hold, exhale, cycles).
BREATHING = (
    ("In 4, uit 6", "Adem in door je neus en laat je buik zacht bol worden. Adem langzaam uit "
     "door je mond.", (4, 0, 6, 8)),
    ("Vierkant ademen", "Adem in, houd je adem even vast en adem rustig uit, telkens even lang.",
     (4, 4, 4, 6)),
    ("Lang uitademen", "Adem kort in door je neus en laat de uitademing lang en zacht zijn, alsof "
     "je door een rietje blaast.", (3, 0, 7, 8)),
    ("Ademen in je flanken", "Leg je handen op je onderste ribben en adem zo dat je ribben onder "
     "je handen breder worden.", (5, 1, 6, 8)),
    ("Adem en bekkenbodem samen", "Laat je bekkenbodem zacht zakken als je inademt en voel hoe "
     "hij vanzelf terugveert als je uitademt.", (4, 0, 6, 10)),
    ("Zuchten en loslaten", "Adem in door je neus en laat de lucht met een hoorbare zucht "
     "ontsnappen. Laat bij elke zucht je schouders zakken.", (3, 0, 6, 5)),
)  # fmt: skip

TIPS = (
    "Zet een herinnering in je telefoon op een vast moment van de dag. Na een paar weken heb je "
    "hem waarschijnlijk niet meer nodig.",
    "Merk je dat je tijdens het oefenen je adem inhoudt? Tel dan zacht hardop mee. Wie praat, "
    "ademt vanzelf.",
    "Schrijf na het oefenen in één zin op hoe het ging. Zo zie je later terug wat je hebt "
    "opgebouwd.",
    "Oefen liever kort en vaak dan lang en zelden. Drie minuten per dag telt meer dan een half "
    "uur op zondag.",
    "Doe de oefening eens met je ogen dicht. Je merkt dan vaak beter wat er in je lichaam gebeurt.",
)

INTROS = (
    "In deze les staat **{exercise}** centraal. Het is een eenvoudige oefening, maar juist "
    "daardoor leer je veel over {focus}. Je gaat niet voor zoveel mogelijk herhalingen; je let "
    "vooral op hoe het voelt. Neem de tijd om de beweging rustig te leren, dan wordt hij "
    "vanzelf vertrouwd.",
    "Veel mensen merken pas hoe {focus} werkt als ze er bewust bij stilstaan. Daar is deze les "
    "voor. Met **{exercise}** oefen je een beweging die je later in de cursus steeds weer "
    "tegenkomt. Het is geen wedstrijd: rustig en precies werkt beter dan snel en hard.",
    "Deze les bouwt voort op wat je eerder deed. Je kent de eerste oefeningen nu, en met "
    "**{exercise}** voeg je er een nieuwe aan toe. Lees de uitleg eerst helemaal door en oefen "
    "daarna met de oefenspeler. Die telt voor je, zodat jij alleen hoeft te voelen.",
    "Een goede oefening past in je dag. **{exercise}** kun je thuis doen, op een rustig moment, "
    "zonder speciale spullen. Je hebt alleen wat ruimte nodig en een paar minuten aandacht voor "
    "{focus}. Zoek deze week een vast moment, bijvoorbeeld na het tandenpoetsen.",
    "Bewegen begint bij voelen. In deze les ga je met **{exercise}** aan de slag en leer je "
    "opmerken wat er gebeurt in {focus}. Merk je dat je adem stokt of dat je schouders "
    "omhoogkomen? Dan doe je waarschijnlijk te veel. Minder kracht is vaak meer.",
    "Je lichaam past zich aan wat je regelmatig doet. Daarom oefen je liever elke dag een paar "
    "minuten dan één keer per week lang. **{exercise}** is daar een goed voorbeeld van: kort, "
    "rustig en makkelijk te herhalen. Zo werk je stap voor stap aan {focus}.",
)

EXTRAS = (
    "Je hoeft niets te forceren. Lukt een beweging nog niet zoals beschreven, maak hem dan kleiner "
    "of doe minder herhalingen. Na een paar dagen gaat het vaak al makkelijker, omdat je spieren "
    "en je zenuwen beter gaan samenwerken.",
    "Let tijdens het oefenen ook op je adem. Houd hem niet vast, maar laat hem rustig doorlopen. "
    "Een handige regel: adem uit op het zwaarste moment van de beweging. Zo blijft je buik soepel "
    "en werk je niet tegen jezelf in.",
    "Kies een plek waar je niet gestoord wordt en zet je telefoon even op stil. Een mat of een "
    "zachte ondergrond is prettig, maar een kleed werkt ook. Draag kleding waarin je makkelijk "
    "kunt bewegen.",
    "Vergelijk jezelf niet met anderen. Iedereen begint ergens anders, en wat voor de een "
    "makkelijk is, kost de ander meer moeite. Kijk liever naar je eigen vooruitgang: gaat het "
    "vandaag iets rustiger of soepeler dan vorige week?",
    "Twijfel je of je het goed doet? Oefen dan een keer voor de spiegel, of leg een hand op de "
    "plek waar je de beweging wilt voelen. Die hand helpt je om je aandacht erbij te houden.",
    "Het helpt om de oefening te koppelen aan iets wat je elke dag al doet. Dan hoef je er niet "
    "aan te denken: het wordt een gewoonte, net als koffie zetten of de hond uitlaten.",
)

PREPARE = (
    "Zoek een rustige plek en zorg dat je stevig en comfortabel zit, staat of ligt.",
    "Adem een paar keer rustig in en uit voordat je begint, en laat je schouders zakken.",
    "Lees de stappen van de oefening hieronder nog één keer door.",
    "Zet een stoel of een stevig meubel binnen handbereik, zodat je je kunt vasthouden.",
)
PERFORM = (
    "Start de oefenspeler en volg het ritme van de teller. Je hoeft zelf niet te tellen.",
    "Begin met ongeveer de helft van je kracht. Voelt dat goed, dan mag het de volgende keer iets "
    "steviger.",
    "Beweeg langzaam en gecontroleerd, zowel heen als terug.",
    "Houd je adem niet vast: adem rustig door, ook als het even zwaarder wordt.",
)
FINISH = (
    "Rust na elke serie even uit en voel wat de oefening met je heeft gedaan.",
    "Sluit af met drie rustige ademhalingen en noteer in je logboek hoe het ging.",
    "Stop als je moe wordt: liever een paar goede herhalingen dan veel slordige.",
)
CHECKS = (
    "Je adem loopt rustig door.",
    "Je schouders en je kaak blijven ontspannen.",
    "Je voelt de beweging op de plek waar hij hoort, niet ergens anders.",
    "Je kunt tijdens het oefenen nog rustig praten.",
    "Na het oefenen voel je je warm en wakker, niet uitgeput.",
    "Je beweegt in een tempo dat je zelf kunt bijhouden.",
    "Je kunt de laatste herhaling net zo netjes doen als de eerste.",
)
CLOSINGS = (
    ("Deze week", "Oefen deze week elke dag één keer, of twee keer als het goed voelt. Houd in je "
     "logboek bij wanneer je hebt geoefend. Na een paar weken zie je hoe regelmatig je bent "
     "geweest, en dat is vaak al een mooie motivatie om door te gaan."),
    ("Tot slot", "Je hebt nu een nieuwe oefening in je routine. De volgende les bouwt hierop "
     "voort, maar neem gerust de tijd. Wil je deze les nog een paar dagen herhalen voordat je "
     "verder gaat? Dat is prima. De lessen blijven voor je klaarstaan."),
    ("Oefenen in je dag", "Probeer de oefening ook eens op een ander moment: bij het wachten op "
     "de waterkoker, in de pauze op je werk of voor het slapengaan. Hoe vaker je hem doet, hoe "
     "minder je erover hoeft na te denken."),
    ("Rustig aan", "Heb je een drukke week of voel je je moe? Doe dan een kortere versie, met "
     "minder herhalingen. Een paar minuten oefenen is altijd beter dan helemaal niet. Volgende "
     "week pak je de draad weer op."),
)  # fmt: skip
SAFETY = (
    "Voelt een oefening pijnlijk of vertrouw je iets niet, stop dan en overleg met je huisarts of "
    "fysiotherapeut."
)

MODULE_THEMES = (
    ("Kennismaken", "Je leert {focus} beter kennen en voelt hoe een rustige eerste oefening gaat."),
    ("Ademen en voelen", "Je koppelt je adem aan de beweging en merkt waar je spanning vasthoudt."),
    ("Rustig opbouwen", "Je doet de oefeningen iets langer en vaker, in je eigen tempo."),
    ("Kracht en controle", "Je werkt aan {focus} met oefeningen die iets meer vragen."),
    ("In je dagelijks leven", "Je neemt wat je leerde mee in zitten, staan, tillen en lopen."),
)  # fmt: skip
LAST_MODULE = ("Volhouden", "Je maakt een korte routine die bij je dag past en die je volhoudt.")
VARIANTS = (
    "rustig opbouwen", "met je adem erbij", "een stap verder", "in je dagelijkse routine",
    "langer volhouden", "zittend", "staand",
)  # fmt: skip

AUDIENCE = (
    "Je wilt meer aandacht geven aan {focus}, maar weet niet goed waar je moet beginnen.",
    "Je zoekt korte oefeningen die je thuis kunt doen, zonder apparaten.",
    "Je wilt een routine die past in een drukke week.",
    "Je houdt van rustige, duidelijk uitgelegde oefeningen.",
)
OUTCOMES = (
    "Je weet hoe je {focus} rustig en gecontroleerd beweegt.",
    "Je hebt een korte routine die je zelf kunt volhouden.",
    "Je ademt rustig door tijdens het oefenen.",
    "Je merkt eerder wanneer je spanning vasthoudt, en je laat hem los.",
    "Je weet hoe je een oefening lichter of zwaarder maakt.",
    "Je neemt wat je leert mee in je dagelijks leven.",
)
FAQ = (
    ("Hoeveel tijd kost deze cursus?", "Reken op ongeveer tien minuten per dag. Sommige lessen "
     "zijn korter, andere iets langer. Je bepaalt zelf wanneer je oefent."),
    ("Wat als ik pijn voel?", "Stop met de oefening. Pijn hoort niet bij deze cursus. Houdt het "
     "aan, overleg dan met je huisarts of fysiotherapeut voordat je verder oefent."),
    ("Heb ik speciale spullen nodig?", "Nee. Een mat of kleed en een stevige stoel zijn genoeg."),
    ("Wat als ik een week mis?", "Geen probleem. De lessen blijven voor je klaarstaan. Pak de "
     "draad weer op waar je was gebleven."),
)  # fmt: skip


def _practice_step(rng: random.Random, kinds: tuple[str, str], breathing: bool) -> dict[str, Any]:
    """An exercise from the course's groups, or a breathing pattern."""
    if breathing:
        title, body, (inhale, hold, exhale, cycles) = rng.choice(BREATHING)
        return {
            "kind": "breathing", "title": title, "body": body, "inhale_seconds": inhale,
            "hold_seconds": hold, "exhale_seconds": exhale, "cycles": cycles,
        }  # fmt: skip
    group = rng.choice([kind for kind in kinds if kind in EXERCISES])  # "adem" is breathing only
    title, body, (hold, relax, reps, sets, rest, side), cues = rng.choice(EXERCISES[group])
    step: dict[str, Any] = {
        "kind": "exercise", "title": title, "body": body, "hold_seconds": hold,
        "relax_seconds": relax, "reps": reps, "sets": sets, "rest_seconds": rest, "cues": cues,
    }  # fmt: skip
    if side:
        step["side"] = side
    return step


def _steps(rng: random.Random, theme: Theme) -> list[dict[str, Any]]:
    """Two to four steps: a main practice, more practice, now and then a tip."""
    breathing_share = 0.5 if "adem" in theme.kinds else 0.2
    steps = [_practice_step(rng, theme.kinds, rng.random() < breathing_share)]
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.2:
            steps.append({"kind": "text", "title": "Tip", "body": rng.choice(TIPS)})
        else:
            steps.append(_practice_step(rng, theme.kinds, rng.random() < breathing_share))
    return steps


def _in_order(rng: random.Random, lines: tuple[str, ...], count: int) -> list[str]:
    """`count` of the lines, in their written order (preparing comes before starting)."""
    return [lines[i] for i in sorted(rng.sample(range(len(lines)), count))]


def _lesson_body(rng: random.Random, theme: Theme, exercise: str) -> str:
    """About 350 words of Markdown: why, how (a numbered list), checks, and the week ahead."""
    intro = rng.choice(INTROS).format(exercise=exercise, focus=theme.focus)
    extras = rng.sample(EXTRAS, 2)
    how = [*_in_order(rng, PREPARE, 2), *_in_order(rng, PERFORM, 2), rng.choice(FINISH)]
    heading, closing = rng.choice(CLOSINGS)
    return "\n".join(
        [
            "## Waar gaat deze les over?\n", intro + "\n", extras[0] + "\n",
            "## Zo doe je het\n", *(f"{n}. {line}" for n, line in enumerate(how, 1)), "",
            extras[1] + "\n",
            "## Zo weet je of het goed gaat\n", *(f"- {line}" for line in rng.sample(CHECKS, 4)),
            "", f"## {heading}\n", closing + "\n", SAFETY + "\n",
        ]
    )  # fmt: skip


def _description(rng: random.Random, theme: Theme, modules: int) -> str:
    unit = "weken" if theme.drip else "delen"
    pace = (
        "Elke week gaat er een nieuwe module open, zodat je rustig kunt opbouwen."
        if theme.drip
        else "Alle lessen staan meteen voor je klaar: je kiest zelf je tempo."
    )
    audience = [line.format(focus=theme.focus) for line in rng.sample(AUDIENCE, 3)]
    return "\n".join(
        [
            f"{theme.subtitle}. In **{theme.title}** werk je in {modules} {unit} aan "
            f"{theme.focus}. Elke les heeft een korte uitleg en een paar oefeningen die je met de "
            f"oefenspeler doet. {pace}\n",
            "## Voor wie is deze cursus?\n", *(f"- {line}" for line in audience), "",
            "## Wat heb je nodig?\n", "- Een mat of een zachte ondergrond", "- Een stevige stoel",
            "- Ongeveer 10 minuten per dag\n",
            "## Goed om te weten\n",
            "Deze cursus leert je oefeningen. Hij stelt geen diagnose en vervangt geen arts of "
            "fysiotherapeut. " + SAFETY,
        ]
    )  # fmt: skip


def _lessons(
    rng: random.Random, theme: Theme, count: int, first: int
) -> list[tuple[str, PackageLesson]]:
    """`count` lessons numbered from `first`, each named after its main practice step."""
    lessons = []
    for number in range(first, first + count):
        steps = _steps(rng, theme)
        main = steps[0]["title"]
        title = main if number == 1 else f"{main}: {rng.choice(VARIANTS)}"
        slug = f"{number:02d}-{slugify(title)}"[:80].rstrip("-")
        meta = LessonMeta.model_validate(
            {
                "slug": slug,
                "title": title,
                "estimated_minutes": rng.randint(5, 15),
                "free_preview": number == 1 and theme.price_cents > 0,
                "steps": steps,
            }
        )
        file_name = f"{slug}.md"
        lessons.append((file_name, PackageLesson(file_name, meta, _lesson_body(rng, theme, main))))
    return lessons


def _package(rng: random.Random, theme: Theme) -> CoursePackage:
    """One synthetic course: 4–6 modules of 4–6 lessons."""
    module_count = rng.randint(4, 6)
    themes = [*MODULE_THEMES[: module_count - 1], LAST_MODULE]
    modules: list[ModuleManifest] = []
    lessons: dict[str, PackageLesson] = {}
    for index, (name, summary) in enumerate(themes):
        part = _lessons(rng, theme, rng.randint(4, 6), first=len(lessons) + 1)
        lessons.update(part)
        modules.append(
            ModuleManifest(
                title=f"Week {index + 1} — {name}" if theme.drip else f"Deel {index + 1}: {name}",
                summary=summary.format(focus=theme.focus),
                unlock_after_days=7 * index if theme.drip else 0,
                lessons=[file_name for file_name, _lesson in part],
            )
        )
    manifest = CourseManifest.model_validate(
        {
            "slug": theme.slug,
            "title": theme.title,
            "subtitle": theme.subtitle,
            "language": "nl",
            "price_cents": theme.price_cents,
            "status": "published",
            "schedule": "drip" if theme.drip else "all_at_once",
            "description": _description(rng, theme, module_count),
            "outcomes": [line.format(focus=theme.focus) for line in rng.sample(OUTCOMES, 4)],
            "faq": [{"question": q, "answer": a} for q, a in rng.sample(FAQ, rng.randint(2, 3))],
            "modules": modules,
        }
    )
    return CoursePackage(course=manifest, lessons=lessons)


def synthetic_packages() -> list[tuple[Theme, CoursePackage]]:
    """The twenty synthetic courses, the same on every run."""
    rng = random.Random(CONTENT_SEED)  # noqa: S311 (sample text, not secrets)
    return [(theme, _package(rng, theme)) for theme in THEMES]
