# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Bounded waits. Modules with a different default declare the option themselves, which
    # overrides this fragment.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - How long, in seconds, to wait for the Azure operations of this task before failing.
      - On timeout the task fails with what was done so far in its result; running it again
        continues from there.
      - Not used in check mode, which never waits.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two status checks while waiting.
      - Azure long-running operations follow the C(Retry-After) interval Azure sends; this
        interval applies to the waits the module polls itself.
      - Fractions of a second are allowed.
    type: float
    default: 15
"""
