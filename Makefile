# The two commands a newcomer needs: `make run` (the service on :4681) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test fuzz lint schema lock clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# DEBUG=1 lets the service generate a local encryption key under HOT_DATA_DIR on first start.
run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runhot

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# schemathesis over the whole OpenAPI document against a live server (see tests/fuzz).
fuzz: $(STAMP)
	$(BIN)/pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

# Style and complexity (ruff, C901), the import contracts of docs/architecture.md, dead code.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m tests.dead_code

schema: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --format openapi-json --file /dev/null

# After changing dependencies in pyproject.toml: pin them (and what they pull in) again.
# requirements.txt is what `make setup` installs (runtime + dev); requirements-runtime.txt is
# what the container image installs.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --output-file requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --output-file requirements-runtime.txt pyproject.toml

clean:
	rm -rf $(VENV) var
