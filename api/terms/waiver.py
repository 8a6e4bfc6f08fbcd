"""The request for immediate access that ends the right of withdrawal (BW 6:230p sub f,
EU Consumer Rights Directive 2011/83/EU art. 16(m)).

Digital content not on a physical medium: the 14-day right of withdrawal ends once delivery has
started, but only when the consumer explicitly asked for that start and acknowledged that she
loses the right by it. The checkbox at checkout carries exactly that, and the order records
this version and the moment she ticked it.
"""

from api.i18n import N_

# Change the version whenever the meaning of the sentence changes.
WAIVER_VERSION = "2026-12-05.1"

WAIVER_TEXT = N_(
    "I want access to this course to start right away, and I understand that my 14-day right "
    "of withdrawal ends once access has started."
)
WAIVER_MISSING = N_(
    "Tick the box if you want access to start right away. Without it we cannot start the payment."
)
