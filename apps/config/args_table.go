package config

// The command-line option table (ParseArgs), taken from uWSGI 2.0.21: the shortcut
// letters and argument kinds of core/uwsgi.c and of the python, rack, http, fastrouter,
// rawrouter, mongrel2, logzmq and rpc plugins (`{"name", no_argument, 'x', ...}`).
// Any other long option takes a required argument, as most of uWSGI's ~800 do.

// argKind is how a long option takes its argument.
type argKind int

const (
	argRequired argKind = iota // --name value or --name=value
	argNone                    // --name (boolean); --name=value is an error
	argOptional                // --name or --name=value, never --name value
)

// String names the kind for diagnostics.
func (k argKind) String() string {
	switch k {
	case argNone:
		return "no argument"
	case argOptional:
		return "optional argument"
	}
	return "required argument"
}

// kindOf returns the argument kind of a long option.
func kindOf(name string) argKind {
	switch name {
	case "abstract-socket", "alarm-list", "alarms-list", "auto-procname", "autoload",
		"cache-no-expire", "cache-report-freed-items", "cache-use-last-modified", "catch-exceptions",
		"cflags", "cgi-mode", "cheap", "cheaper-algo-list", "cheaper-algos-list", "cheaper-list",
		"check-static-docroot", "clock-list", "clocks-list", "close-on-exec", "close-on-exec2",
		"command-mode", "config-py", "daemons-honour-stdin", "die-on-idle", "die-on-term",
		"disable-logging", "disable-sendfile", "disable-write-exception", "dot-h", "drop-after-apps",
		"drop-after-init", "dump-options", "early-emperor", "emperor-graceful-shutdown",
		"emperor-magic-exec", "emperor-no-blacklist", "emperor-nofollow", "emperor-tyrant",
		"emperor-tyrant-nofollow", "enable-metrics", "enable-proxy-protocol", "enable-threads",
		"end-blacklist", "end-whitelist", "exit-on-reload", "fastrouter-cheap",
		"fastrouter-fallback-on-no-key", "force-gateway", "freebind", "harakiri-no-arh",
		"harakiri-verbose", "help", "honour-range", "honour-stdin", "http-auto-chunked",
		"http-auto-gzip", "http-cheap", "http-chunked-input", "http-manage-rtsp", "http-manage-source",
		"http-raw-body", "http-websockets", "https-export-cert", "if-not-reload", "if-reload",
		"ignore-script-name", "ignore-sigpipe", "ignore-write-errors", "imperial-monitor-list",
		"imperial-monitors-list", "jailed", "lazy", "lazy-apps", "log-4xx", "log-5xx",
		"log-format-strftime", "log-master", "log-master-req-stream", "log-master-stream", "log-micros",
		"log-reopen", "log-truncate", "log-x-forwarded-for", "log-zero", "logfile-chown",
		"logformat-strftime", "logger-list", "loggers-list", "loop-list", "loops-list",
		"manage-script-name", "master", "master-as-root", "memory-report", "metric-dir-restore",
		"metrics-dir-restore", "metrics-no-cores", "need-app", "never-swap", "no-default-app",
		"no-defer-accept", "no-fd-passing", "no-harakiri-after-req-hook", "no-harakiri-arh",
		"no-initgroups", "no-orphans", "no-server", "no-site", "no-threads-wait", "paste-logger",
		"pcre-jit", "persistent-ipcsem", "plugin-list", "plugins-list", "propagate-touch",
		"py-call-osafterfork", "py-call-uwsgi-fork-hooks", "python-version", "rawrouter-cheap",
		"rawrouter-xclient", "rbshell-oneshot", "re-fork", "re-fork-as-root", "re-fork-post-jail",
		"reaper", "refork", "refork-as-root", "refork-post-jail", "reload-on-exception", "reload-os-env",
		"reuse-port", "router-list", "routers-list", "setns-preopen", "show-config", "shutdown-sockets",
		"single-interpreter", "skip-atexit", "skip-atexit-teardown", "skip-zero", "so-keepalive",
		"so-send-timeout", "so-write-timeout", "socket-send-timeout", "socket-write-timeout",
		"spooler-ordered", "spooler-quiet", "ssl-enable-sslv3", "ssl-enable-tlsv1", "ssl-enable3",
		"ssl-option", "ssl-verbose", "start-unsubscribed", "start_response-nodelay", "static-gzip-all",
		"stats-http", "stats-min", "stats-minified", "stats-no-cores", "stats-no-metrics", "strict",
		"subscription-dotsplit", "subscriptions-use-credentials", "tcp-fast-open-client",
		"tcp-fastopen-client", "tcp-nodelay", "threaded-logger", "thunder-lock",
		"unsubscribe-on-graceful-reload", "usage", "use-abort", "vacuum", "version", "vhost",
		"vhost-host", "write-errors-exception-only", "wsgi-accept-buffer", "wsgi-accept-buffers",
		"wsgi-disable-file-wrapper", "wsgi-strict", "zerg-fallback":
		return argNone
	case "check-cache", "chmod", "chmod-socket", "end-for", "end-if", "endfor", "endif", "exit",
		"fastrouter-use-cache", "fastrouter-use-socket", "http-enable-proxy-protocol", "http-keepalive",
		"http-manage-expect", "http-use-cache", "http-use-socket", "ksm", "log-date", "log-prefix",
		"log-syslog", "logdate", "mule", "mule-msg-size", "pyshell", "pyshell-oneshot",
		"rawrouter-use-cache", "rawrouter-use-socket", "rbshell", "snmp", "ssl-session-use-cache",
		"ssl-sessions-use-cache", "ssl-verify-depth":
		return argOptional
	}
	return argRequired
}

// shortOption maps a short flag to its long option: uWSGI resolves a letter to the first
// option declaring it, so -s is socket (not uwsgi-socket) and -p is processes.
func shortOption(c byte) (string, bool) {
	name, ok := "", true
	switch c {
	case 's':
		name = "socket"
	case 'p':
		name = "processes"
	case 't':
		name = "harakiri"
	case 'x':
		name = "xmlconfig"
	case 'S':
		name = "set"
	case 'd':
		name = "daemonize"
	case 'l':
		name = "listen"
	case 'v':
		name = "max-vars"
	case 'b':
		name = "buffer-size"
	case 'm':
		name = "memory-report"
	case 'c':
		name = "cgi-mode"
	case 'a':
		name = "abstract-socket"
	case 'C':
		name = "chmod-socket"
	case 'T':
		name = "enable-threads"
	case 'i':
		name = "single-interpreter"
	case 'M':
		name = "master"
	case 'h':
		name = "help"
	case 'r':
		name = "reaper"
	case 'R':
		name = "max-requests"
	case 'z':
		name = "socket-timeout"
	case 'A':
		name = "sharedarea"
	case 'Q':
		name = "spooler"
	case 'L':
		name = "disable-logging"
	case 'y':
		name = "yaml"
	case 'j':
		name = "json"
	case 'w':
		name = "module"
	case 'J':
		name = "test"
	case 'H':
		name = "home"
	case 'O':
		name = "optimize"
	default:
		ok = false
	}
	return name, ok
}
