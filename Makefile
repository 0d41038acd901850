# pbxbill: `make run` for a demo on 127.0.0.1:8080, `make test` before a commit.

GO       ?= go
PKGS     := ./rating ./store ./handlers
FUZZTIME ?= 10s
BENCHDIR := .bench

.PHONY: build run test bench bench-figures bench-rss fuzz clean

build:
	$(GO) build -o pbxbill .

run: build
	./pbxbill -db pbxbill.db -demo

test:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) test -race -count=1 ./...

# bench prints the figures of every benchmark, then the peak memory of a
# million-line rate deck import, through the API's store call and through
# the admin's upload form, which a benchmark's own figures do not show.
bench: bench-figures bench-rss

bench-figures:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS) ./store/pg

bench-rss:
	@if [ ! -x /usr/bin/time ]; then \
		echo "/usr/bin/time is missing: apt-get install time"; exit 1; \
	fi
	@mkdir -p $(BENCHDIR)
	$(GO) test -c -o $(BENCHDIR)/store.test ./store
	cd store && /usr/bin/time -v -o ../$(BENCHDIR)/import-rss.txt ../$(BENCHDIR)/store.test \
		-test.run='^$$' -test.bench=BenchmarkImport -test.benchtime=1x -test.benchmem
	@grep "Maximum resident set size" $(BENCHDIR)/import-rss.txt
	$(GO) test -c -o $(BENCHDIR)/handlers.test ./handlers
	cd handlers && /usr/bin/time -v -o ../$(BENCHDIR)/upload-rss.txt ../$(BENCHDIR)/handlers.test \
		-test.run='^$$' -test.bench='^BenchmarkUIUploadRates$$' -test.benchtime=1x -test.benchmem
	@grep "Maximum resident set size" $(BENCHDIR)/upload-rss.txt

# fuzz runs every Fuzz target for FUZZTIME each; go test -fuzz takes one
# target at a time. A failing target does not stop the others: the
# failures are listed at the end, and make fails.
fuzz:
	@failed=""; \
	for pkg in $(PKGS); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "$$pkg $$target"; \
			$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) $$pkg || failed="$$failed $$pkg:$$target"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "failing fuzz targets:"; for f in $$failed; do echo "  $$f"; done; exit 1; \
	fi

# clean leaves pbxbill.db alone: it may hold more than the demo.
clean:
	rm -rf pbxbill $(BENCHDIR)
