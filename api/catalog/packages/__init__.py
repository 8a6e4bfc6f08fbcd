"""Course packages: a course as YAML and Markdown files, imported into and exported from Kern."""

from api.catalog.packages.export import export_course
from api.catalog.packages.load import PackageError, Problem, load_package
from api.catalog.packages.schema import CoursePackage, PackageLesson, PackageModule, is_slug
from api.catalog.packages.store import ImportResult, import_package

__all__ = [
    "CoursePackage",
    "ImportResult",
    "PackageError",
    "PackageLesson",
    "PackageModule",
    "Problem",
    "export_course",
    "import_package",
    "is_slug",
    "load_package",
]
