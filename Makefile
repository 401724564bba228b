# ggufs build, test and benchmark targets. Everything builds with CGO_ENABLED=0:
# the GPU runtime is loaded at run time, so one binary serves every machine.
export CGO_ENABLED := 0
GO      ?= go
BIN     := bin/ggufs
FUZZTIME ?= 60s
DEMO_DIR ?= /tmp/ggufs-demo

.PHONY: build test test-short lint fuzz fuzz-ci stress bench demo gpu-test crosscheck-setup clean install uninstall completion

# -buildvcs=auto: stamp the commit for --version even where GOFLAGS turns it off.
build:
	$(GO) build -trimpath -buildvcs=auto -o $(BIN) ./cmd/ggufs

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The whole suite as CI runs it: FUSE mounts, the HIP loading check and the npm
# cross-check are required (they fail rather than skip), then a short fuzz run.
test: lint build crosscheck-setup
	GGUFS_REQUIRE_FUSE=1 GGUFS_REQUIRE_HIP=1 GGUFS_CROSSCHECK=1 \
		CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) fuzz-ci

# Quick loop for development: no race detector, optional checks may skip.
test-short:
	$(GO) test -count=1 ./...

crosscheck-setup:
	test/crosscheck/setup.sh

# Every fuzz target of outside input: package:Target. `make fuzz` runs each
# for FUZZTIME; fuzz-ci runs each briefly (about 45 s in all).
FUZZ_TARGETS := gguf:FuzzOpen gguf:FuzzSplitModel gguf:FuzzDequantize fs:FuzzNpyHeader fs:FuzzReadWindow mount/ctl:FuzzAccepts share:FuzzRequest internal/inspect:FuzzIndenter internal/inspect:FuzzHTMLEscaper

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/ || exit 1; \
	done

# Full-size worst-case headers (2^20 tensors, 2^20 keys, 2^26 strings, 2^20
# nested arrays): memory and time against a plain header (BENCHMARKS.md);
# mounts of 2^20 tensors and keys with `ls` of them (FUSE).
stress:
	GGUFS_STRESS=1 $(GO) test -run 'FullSize' -v -timeout 20m ./gguf/ ./fs/

fuzz-ci:
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime 15s ./gguf/
	$(GO) test -run '^$$' -fuzz '^FuzzSplitModel$$' -fuzztime 10s ./gguf/
	$(GO) test -run '^$$' -fuzz '^FuzzDequantize$$' -fuzztime 5s ./gguf/
	$(GO) test -run '^$$' -fuzz '^FuzzNpyHeader$$' -fuzztime 5s ./fs/
	$(GO) test -run '^$$' -fuzz '^FuzzReadWindow$$' -fuzztime 10s ./fs/
	$(GO) test -run '^$$' -fuzz '^FuzzIndenter$$' -fuzztime 3s ./internal/inspect/
	$(GO) test -run '^$$' -fuzz '^FuzzHTMLEscaper$$' -fuzztime 3s ./internal/inspect/
	$(GO) test -run '^$$' -fuzz '^FuzzAccepts$$' -fuzztime 3s ./mount/ctl/
	$(GO) test -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime 5s ./share/

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./gguf/ ./cache/ ./hip/
	$(BIN) gen -o $(DEMO_DIR)/llama-70b.gguf --preset llama-70b --sparse
	$(BIN) bench open $(DEMO_DIR)/llama-70b.gguf
	$(BIN) bench upload --backend host --size 256MiB
	$(BIN) bench fuse

# The main job on any machine: make a model, mount it, look inside, unmount.
# With no GPU runtime the host backend stands in for the device.
demo: build
	scripts/demo.sh $(BIN) $(DEMO_DIR)

# On a machine with an NVIDIA or AMD GPU (see BENCHMARKS.md for the H200 run).
gpu-test: build
	test/gpu/run.sh $(BIN)

# Install the binary, the mount(8) helper for `mount -t fuse.ggufs` and fstab
# (mount(8) looks for helpers in /sbin only, hence SBINDIR), and bash and zsh
# completion. PREFIX and DESTDIR as usual; `make install DESTDIR=/tmp/root`
# stages everything under /tmp/root.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= /sbin
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

install: build completion
	@mkdir -p bin
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ggufs
	sed 's|@BINDIR@|$(BINDIR)|g' scripts/mount.fuse.ggufs.in > bin/mount.fuse.ggufs
	install -D -m 0755 bin/mount.fuse.ggufs $(DESTDIR)$(SBINDIR)/mount.fuse.ggufs
	install -D -m 0644 bin/ggufs.bash $(DESTDIR)$(BASHCOMPDIR)/ggufs
	install -D -m 0644 bin/_ggufs $(DESTDIR)$(ZSHCOMPDIR)/_ggufs

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ggufs $(DESTDIR)$(SBINDIR)/mount.fuse.ggufs \
		$(DESTDIR)$(BASHCOMPDIR)/ggufs $(DESTDIR)$(ZSHCOMPDIR)/_ggufs

# bin/ggufs.bash and bin/_ggufs: what `ggufs completion bash|zsh` prints.
completion: build
	@mkdir -p bin
	$(BIN) completion bash > bin/ggufs.bash
	$(BIN) completion zsh > bin/_ggufs

clean:
	rm -rf bin
