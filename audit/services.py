"""Every write on the audit trail, by concept (this module is their index):

- `audit.chain.append_event`: append an event to its municipality's chain (history records are
  appended by `audit.recording`, from simple-history's signal);
- `audit.checkpoints.take_checkpoint`: record every chain's head, country-wide;
- `audit.verification.record_verification`: store a verification's outcome;
- `audit.personal_data`: note an export of a contact person's data, pseudonymise one;
- `audit.signin.note_signin_lockout`: a sign-in locked after failed attempts.
"""

from .chain import append_event
from .checkpoints import take_checkpoint
from .personal_data import note_personal_data_export, pseudonymise_person
from .signin import note_signin_lockout
from .verification import record_verification

__all__ = [
    "append_event",
    "note_personal_data_export",
    "note_signin_lockout",
    "pseudonymise_person",
    "record_verification",
    "take_checkpoint",
]
