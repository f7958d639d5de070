"""The policy pack, as the Pulumi CLI runs it: `pulumi preview --policy-pack policies`.

The CLI runs this file with the pack's directory as the working directory and the modules beside it as
top-level ones; they are a package (`policies`) so that the tests import exactly what the CLI runs. The
package is loaded from this directory, whatever the directory is called once published.
"""

import importlib.util
import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "policies", _here / "__init__.py", submodule_search_locations=[str(_here)]
)
assert _spec is not None and _spec.loader is not None
sys.modules["policies"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules["policies"])

from pulumi_policy import PolicyPack  # noqa: E402

from policies import catalog, servicer  # noqa: E402

servicer.install()  # each resource parsed once per request, not once per policy (when the SDK is the one adapted)
PolicyPack(
    name=catalog.PACK_NAME,
    policies=catalog.POLICIES,
)
