# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The connection options every module of the collection takes.
    DOCUMENTATION = r"""
options:
  multiflexi_url:
    description:
      - The MultiFlexi server's URL (the REST API is under C(/api/v1) of it).
      - If not set, the environment variable E(MULTIFLEXI_URL) is used.
    type: str
    default: http://127.0.0.1:8080
  multiflexi_token:
    description:
      - An API token (see the M(multiflexi.multiflexi.token) module, or the web UI's profile page).
      - Mutually exclusive with O(multiflexi_username).
      - If not set, the environment variable E(MULTIFLEXI_TOKEN) is used.
    type: str
  multiflexi_username:
    description:
      - The login of a MultiFlexi user, for HTTP Basic authentication; needs O(multiflexi_password).
      - If not set, the environment variable E(MULTIFLEXI_USERNAME) is used.
    type: str
  multiflexi_password:
    description:
      - The password of O(multiflexi_username).
      - If not set, the environment variable E(MULTIFLEXI_PASSWORD) is used.
    type: str
  validate_certs:
    description:
      - Whether to check the server's TLS certificate. Only set to V(false) on a trusted network.
      - If not set, the environment variable E(MULTIFLEXI_VERIFY_SSL) is used.
    type: bool
    default: true
    aliases: [multiflexi_verify_ssl]
  request_timeout:
    description:
      - Seconds to wait for each answer of the server.
      - If not set, the environment variable E(MULTIFLEXI_REQUEST_TIMEOUT) is used.
    type: float
    default: 30
notes:
  - The tasks run where Ansible runs them (usually the controller, with C(delegate_to) or
    C(connection=local)); the MultiFlexi host needs nothing but the server.
  - Set the connection once for every module with C(module_defaults) and the action group
    C(group/multiflexi.multiflexi.multiflexi).
"""
