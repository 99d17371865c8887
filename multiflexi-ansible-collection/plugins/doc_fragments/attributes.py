# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # A module that changes things; each says itself what its diff shows.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Nothing is written; the task says what would change.
    support: full
"""

    # An _info module.
    INFO = r"""
attributes:
  check_mode:
    description: Reads only, in check mode too.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to show.
    support: none
"""
