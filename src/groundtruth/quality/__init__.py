"""Label quality: inter-annotator agreement and consensus.

`agreement(ds, ...)` measures how far annotators agree (percent agreement, Cohen's and Fleiss'
kappa, Krippendorff's alpha, matched F1 for spans and regions) and lists the disputed items;
`consensus(ds, method=...)` adds one resolved annotation per item with its provenance.
"""

from ._agreement import AgreementReport, agreement
from ._consensus import METHODS, ConsensusResult, build_consensus, consensus, with_consensus
from ._select import AgreementDataError, AgreementInputError
from ._stats import LEVELS, Estimate

__all__ = [
    "LEVELS",
    "METHODS",
    "AgreementDataError",
    "AgreementInputError",
    "AgreementReport",
    "ConsensusResult",
    "Estimate",
    "agreement",
    "build_consensus",
    "consensus",
    "with_consensus",
]
