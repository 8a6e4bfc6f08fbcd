"""One slugify for every title: the studio's course and lesson addresses and the benchmark's
lesson files make their slugs alike, Dutch and Norwegian letters folded to plain ones."""

import pytest

from api.catalog.packages.schema import SLUG_LENGTH, is_slug
from api.kit.slugs import slugify
from api.studio.courses import slug_from


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        # The studio's titles (api/studio/courses.py made these before).
        ("Adem in, adem uit", "adem-in-adem-uit"),
        ("Sterke basis, week 1!", "sterke-basis-week-1"),
        ("Ontspannen ademen — één", "ontspannen-ademen-een"),
        ("  --Rustig--  ", "rustig"),
        # The benchmark's lesson titles (bench/scale/content.py made these before).
        ("Knieën opzij laten zakken: zittend", "knieen-opzij-laten-zakken-zittend"),
        ("Staan op één been", "staan-op-een-been"),
        ("Plank op je knieën: een stap verder", "plank-op-je-knieen-een-stap-verder"),
        # Dutch accents and the ij ligature.
        ("Coördinatie à la carte", "coordinatie-a-la-carte"),
        ("Ĳsbeer", "ijsbeer"),
        # Norwegian and Danish letters, of which the old rule lost ø and æ altogether.
        ("Øvelser på gulvet", "ovelser-pa-gulvet"),
        ("Bekkenbunnstrening for kvinner – Æ og ø", "bekkenbunnstrening-for-kvinner-ae-og-o"),
        ("Sjøen og fjæra", "sjoen-og-fjaera"),
        ("Ålesund", "alesund"),
        # Other letters a name may bring.
        ("Straße", "strasse"),
        ("Œuvre", "oeuvre"),
        ("Łódź", "lodz"),
        ("ＷＥＥＫ １", "week-1"),
    ],
)
def test_a_title_becomes_its_slug(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_a_title_without_letters_or_digits_has_an_empty_slug() -> None:
    assert slugify("😊 — !?") == ""


def test_a_long_title_is_cut_to_the_length_without_a_trailing_hyphen() -> None:
    title = "a" * 79 + " bcd"

    cut = slugify(title, max_length=SLUG_LENGTH[1])

    assert cut == "a" * 79
    assert is_slug(cut)
    assert slugify(title) == "a" * 79 + "-bcd"
    assert len(slugify("lang " * 40, max_length=SLUG_LENGTH[1])) <= SLUG_LENGTH[1]


@pytest.mark.parametrize(
    "title", ["Adem in, adem uit", "Øvelser på gulvet", "Knieën — één", "Œ Æ Ø ß Ł Ð Þ", "a1"]
)
def test_every_slug_is_lower_case_letters_digits_and_single_hyphens(title: str) -> None:
    slug = slugify(title)

    assert slug.isascii()
    assert "--" not in slug
    assert slug == slug.strip("-").lower()
    assert all(char.isalnum() or char == "-" for char in slug)


def test_the_studio_makes_course_addresses_by_these_rules() -> None:
    assert slug_from("Øvelser på gulvet") == "ovelser-pa-gulvet"
    assert slug_from("Æ") == "cursus-ae"
