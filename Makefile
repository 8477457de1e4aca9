.PHONY: run test bench-hosts bench-chat bench-provisioning fuzz

run:  ## start the platform (embedded default) on http://localhost:9357
	scripts/run.sh

test:  ## lint, type-check, check the import contracts and run every test
	scripts/test.sh

bench-hosts:  ## host resolution with 10 clients against 100,000 clients + 10,000 domains
	scripts/venv.sh && .venv/bin/python bench/host_resolution.py

bench-chat:  ## chat endpoint vs a bare Litestar route vs the LiteLLM proxy (wrk, c=1 and c=16)
	scripts/bench_chat.sh

bench-provisioning:  ## 100 and 1,000 clients deployed at once on two workers, Route 53 counted at the server
	scripts/venv.sh && scripts/services.sh && .venv/bin/python bench/provisioning.py

fuzz:  ## Schemathesis against the console API's OpenAPI schema (every check; fails on a 5xx)
	scripts/fuzz.sh
