import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
application = get_wsgi_application()

# A page allocates tens of thousands of short-lived objects (model instances,
# template nodes' contexts), so Python's default cycle collector (every 700
# net allocations) runs dozens of times a request over the whole heap.
# Moving what is loaded now (Django, the URLconf, the app's modules) out of
# the collector's reach and collecting the youngest generation every 50,000
# allocations took 5-7 % of the CPU off the pages in bench/pages.py. Request
# garbage is still collected: reference counting frees nearly all of it, and
# the collector still runs, less often.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 100)
