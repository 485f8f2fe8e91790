"""Dataset readers by format name: the explicit registry ingestion looks formats up in."""

from tinyface.data.ingestion.readers.celeba import CelebaReader
from tinyface.data.ingestion.readers.dlib_xml import DlibXmlReader
from tinyface.data.ingestion.readers.ibug_pts import IbugPtsReader
from tinyface.data.ingestion.readers.lfw5 import Lfw5Reader
from tinyface.data.ingestion.readers.wflw import WflwReader

READERS = {
    "300w": IbugPtsReader(),
    "dlib_xml": DlibXmlReader(),
    "wflw": WflwReader(),
    "celeba": CelebaReader(),
    "lfw5": Lfw5Reader(),
}


def get_reader(name):
    """The reader registered as `name`; ValueError listing the valid names otherwise."""
    try:
        return READERS[name]
    except KeyError:
        raise ValueError(f"unknown annotation format {name!r}; valid formats: {', '.join(sorted(READERS))}") from None
