# Portail Citoyen.  The two commands of the README:
#
#   make run    install what is missing, build, start PostgreSQL (var/pg)
#               and nginx on http://127.0.0.1:8080 (rerun: rebuild, reload)
#   make test   the same setup, then the whole test suite
#
# and: make stop, make build, make bench, make clean, make agent (an
# agent of the back-office) and make test-fresh
# (make run and make test on a minimal Debian 12 root: ci/test-fresh).

SHELL      := /bin/bash
TOP        := $(CURDIR)
NGX_SRC    := /usr/share/nginx/src
NGINX      := /usr/sbin/nginx
MODULE     := build/ngx_http_portal_module.so
ASAN_MOD   := build/asan/ngx_http_portal_module.so
SOURCES    := config $(wildcard src/*.c src/*.h)
RUNAS      := $(if $(filter 0,$(shell id -u)),runuser -u portal --,)
NGINX_RUN  := $(NGINX) -p $(TOP)/var/ -c $(TOP)/conf/nginx.conf \
              -e $(TOP)/var/logs/error.log

CC_OPT     := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -D_FORTIFY_SOURCE=2 \
              -Wall -Wextra -Werror
ASAN_OPT   := -g -O1 -fPIC -fno-omit-frame-pointer -fsanitize=address \
              -Wall -Wextra -Werror

.PHONY: all build asan deps deps-test run stop db test test-unit agent \
        test-asan test-browser test-fresh bench clean

all: build

build: $(MODULE)
asan: $(ASAN_MOD)

deps:
	@ci/deps run

deps-test:
	@ci/deps test

# nginx's configure runs in a writable copy of Debian's nginx-dev tree,
# with Debian's own flags, so that the module loads into /usr/sbin/nginx.
build/%/objs/Makefile: config $(NGX_SRC)/conf_flags
	@test -f $(NGX_SRC)/configure || { \
	    echo "nginx sources missing: apt-get install nginx-dev" >&2; exit 1; }
	rm -rf build/$*
	mkdir -p build
	cp -a $(NGX_SRC) build/$*
	cd build/$* && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(if $(filter asan,$*),$(ASAN_OPT),$(CC_OPT))" \
	    --with-ld-opt="$(if $(filter asan,$*),-fsanitize=address,)" \
	    --add-dynamic-module=$(TOP) > configure.log 2>&1 \
	    || { tail -n 30 configure.log >&2; exit 1; }

$(MODULE): build/nginx/objs/Makefile $(SOURCES)
	$(MAKE) -s -C build/nginx -f objs/Makefile modules
	ci/check-symbols build/nginx/objs/ngx_http_portal_module.so
	@# a new inode: the running master has the old file mapped
	cp build/nginx/objs/ngx_http_portal_module.so $@.tmp && mv -f $@.tmp $@

$(ASAN_MOD): build/asan/objs/Makefile $(SOURCES)
	$(MAKE) -s -C build/asan -f objs/Makefile modules
	ci/check-symbols build/asan/objs/ngx_http_portal_module.so
	cp build/asan/objs/ngx_http_portal_module.so $@.tmp && mv -f $@.tmp $@

# An agent of the back-office, made or updated (see README, "Agents"):
#   make agent LOGIN=... ROLE=admin|instructeur PASSWORD=... [NAME=...]
#              [THEMES=slug,slug]
# PASSWORD reaches the tool in its environment only (never in a command
# line that ps shows); without it the tool reads it from the terminal.
AGENT_TOOL := build/portal-agent

$(AGENT_TOOL): tools/portal-agent.c src/ngx_http_portal_argon2.h
	mkdir -p build
	$(CC) -O2 -Wall -Wextra -Werror -I$$(pg_config --includedir) \
	    -o $@ tools/portal-agent.c -L$$(pg_config --libdir) -lpq -lsodium

agent: deps $(AGENT_TOOL) db
	@test -n "$(LOGIN)" && test -n "$(ROLE)" || { echo "usage: make agent" \
	    "LOGIN=<login> ROLE=<admin|instructeur> PASSWORD=<password>" \
	    "[NAME=<name>] [THEMES=<slug,slug>]" >&2; exit 2; }
	@PORTAL_AGENT_PASSWORD="$${PASSWORD-}" \
	    PORTAL_AGENT_DB="host=$(TOP)/var/pg/run dbname=portal user=postgres" \
	    $(AGENT_TOOL) "$$LOGIN" "$$ROLE" "$${NAME-}" "$${THEMES-}"

# var/: PostgreSQL, logs, mail, nginx's temporary files, the cookie key.
var/secret.key:
	mkdir -p var
	umask 077 && head -c 64 /dev/urandom > $@.tmp && mv $@.tmp $@

db: deps var/secret.key
	mkdir -p var/logs var/tmp var/conf.d var/mail/new var/mail/cur \
	    var/mail/tmp
	printf '%s\n' "# written by make run: the database of var/pg" \
	    'portal_db "host=$(TOP)/var/pg/run dbname=portal user=portal";' \
	    > var/conf.d/00-db.conf
	$(if $(RUNAS),chown -R portal: var/logs var/tmp var/mail var/secret.key)
	ci/pg start var/pg
	ci/pg migrate var/pg portal

# A reload keeps the module the master loaded first (dlopen() knows the
# path already): a new build of the module restarts nginx instead.
run: deps build db
	@running=; [ -f var/logs/nginx.pid ] \
	    && kill -0 $$(cat var/logs/nginx.pid) 2>/dev/null && running=1; \
	if [ -n "$$running" ] && ! cmp -s $(MODULE) var/loaded-module.so; then \
	    $(RUNAS) $(NGINX_RUN) -t -q || exit 1; \
	    ci/stop-nginx var/logs/nginx.pid "$(NGINX_RUN)"; running=; \
	fi; \
	if [ -n "$$running" ]; then \
	    $(RUNAS) $(NGINX_RUN) -t -q && $(RUNAS) $(NGINX_RUN) -s reload \
	    && echo "nginx reloaded"; \
	else \
	    cp $(MODULE) var/loaded-module.so; \
	    $(RUNAS) $(NGINX_RUN) && echo "nginx started"; \
	fi
	@ci/wait-http http://127.0.0.1:8080/api/health 200 30
	@echo "Portail Citoyen: http://127.0.0.1:8080/ (mail in var/mail/new/)"

stop:
	@ci/stop-nginx var/logs/nginx.pid "$(NGINX_RUN)"
	-@ci/pg stop var/pg

# The fuzzer, the suite against the module and against its ASan build,
# then the browser tests: ci/test.
test: deps-test build asan $(AGENT_TOOL) run
	ci/test

# The browser tests drive the server of make run; its captchas answer
# PORTAL_CAPTCHA_ANSWER for their duration (nginx warns while it is so).
CAPTCHA_TEST := var/conf.d/50-captcha-test.conf

test-browser:
	cd t/browser && npm ci --no-audit --no-fund --silent
	echo 'portal_captcha_test_answer KX7P4M;' > $(CAPTCHA_TEST)
	$(MAKE) -s run
	PORTAL_BASE_URL=http://127.0.0.1:8080 PORTAL_CAPTCHA_ANSWER=KX7P4M \
	    node --test t/browser/; rc=$$?; rm -f $(CAPTCHA_TEST); \
	    $(MAKE) -s run >/dev/null; exit $$rc

# The README's promise on a fresh machine: make run and make test, as root,
# on a minimal Debian 12 root given this machine's apt sources, npm
# configuration and CA certificates, in a network namespace of its own.
# Not part of make test (it takes a while).
test-fresh:
	@ci/deps fresh
	ci/test-fresh

bench: deps-test build run
	ci/bench

clean: stop
	rm -rf build t/servroot
