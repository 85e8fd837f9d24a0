"""Print a personal access token (a JWT refresh token) for Label Studio's admin user.

Run with Label Studio's own Python and data dir (scripts/label-studio.sh): the token is what a
user copies from Account & Settings → Personal Access Token, created here without a browser.
"""

import os
import sys
from pathlib import Path

import label_studio

sys.path.insert(0, str(Path(label_studio.__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.label_studio")

import django  # noqa: E402

django.setup()

from jwt_auth.models import LSAPIToken  # noqa: E402
from users.models import User  # noqa: E402

user = User.objects.get(email=os.environ["LABEL_STUDIO_USERNAME"])
print(LSAPIToken.for_user(user).get_full_jwt())
