# Git servers on 127.0.0.1 for the sync tests (sourced; bash).
#
#   . tests/servers/servers.bash
#   git_daemon_start ROOT        git://127.0.0.1:$GIT_DAEMON_PORT/<repo>
#   http_start ROOT USER PASS    http://127.0.0.1:$HTTP_PORT/<repo> (basic auth)
#   servers_stop                 stops every server started here (call it from
#                                teardown or an EXIT trap)
#
# git daemon serves with --enable=receive-pack --export-all. Smart HTTP is
# nginx (as the current user, its own prefix and configuration in a
# temporary directory, `daemon off` in the background) in front of fcgiwrap
# and `git http-backend` (GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL), with
# HTTP basic auth (an htpasswd line made with `openssl passwd -apr1`).
# Each server gets a free port; each is started in its own process group and
# stopped by the ids recorded here, nothing else. Their logs stay in
# $SERVERS_DIR until servers_stop removes it.
# Needs: git, nginx (nginx-light), fcgiwrap, openssl (tools/deps).

SERVERS_PIDS=${SERVERS_PIDS:-}
SERVERS_DIR=${SERVERS_DIR:-}

servers_dir() {
	if [ -z "$SERVERS_DIR" ]; then
		# Short: it holds a unix socket (108 bytes at most).
		SERVERS_DIR=$(mktemp -d /tmp/tidu-srv.XXXXXX)
	fi
}

# A TCP port nobody listens on now (the kernel's choice).
free_port() {
	local p i
	if python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null; then
		return 0
	fi
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT: until something accepts connections on it (5 s at most).
wait_port() {
	local i
	for i in $(seq 1 100); do
		if (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "servers: nothing listens on port $1" >&2
	return 1
}

# Starts "$@" in its own process group, output to $log; remembers its pid.
# fd 3 is closed: bats waits for it.
_spawn() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 3>&- </dev/null &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	LAST_PID=$!
}

# git_daemon_start ROOT [PORT]: serves every repository under ROOT.
git_daemon_start() {
	local root=$1 tries
	servers_dir
	for tries in 1 2 3 4 5; do
		GIT_DAEMON_PORT=${2:-$(free_port)}
		_spawn "$SERVERS_DIR/git-daemon.$GIT_DAEMON_PORT.log" git daemon --reuseaddr \
			--enable=receive-pack --export-all --informative-errors \
			--base-path="$root" --listen=127.0.0.1 --port="$GIT_DAEMON_PORT" "$root"
		GIT_DAEMON_PID=$LAST_PID
		if wait_port "$GIT_DAEMON_PORT"; then
			GIT_DAEMON_URL="git://127.0.0.1:$GIT_DAEMON_PORT"
			return 0
		fi
		_stop_pid "$GIT_DAEMON_PID"
		[ -z "${2:-}" ] || break
	done
	cat "$SERVERS_DIR"/git-daemon.*.log >&2
	return 1
}

git_daemon_stop() {
	if [ -n "${GIT_DAEMON_PID:-}" ]; then
		_stop_pid "$GIT_DAEMON_PID"
	fi
	GIT_DAEMON_PID=
}

# http_start ROOT USER PASS: git http-backend behind nginx with basic auth.
http_start() {
	local root=$1 user=$2 pass=$3 dir conf tries run_as=""
	servers_dir
	dir=$SERVERS_DIR/http
	mkdir -p "$dir/tmp"
	printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$pass")" >"$dir/htpasswd"
	_spawn "$dir/fcgiwrap.log" fcgiwrap -c 1 -s "unix:$dir/fcgi.sock"
	HTTP_FCGI_PID=$LAST_PID
	for tries in $(seq 1 100); do
		[ -S "$dir/fcgi.sock" ] && break
		sleep 0.05
	done
	if [ "$(id -u)" = 0 ]; then
		run_as="user $(id -un) $(id -gn);"
	fi
	for tries in 1 2 3 4 5; do
		HTTP_PORT=$(free_port)
		conf=$dir/nginx.conf
		cat >"$conf" <<EOF
$run_as
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$HTTP_PORT;
		location / {
			auth_basic "tidu test";
			auth_basic_user_file $dir/htpasswd;
			fastcgi_pass unix:$dir/fcgi.sock;
			fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
			fastcgi_param GIT_PROJECT_ROOT $root;
			fastcgi_param GIT_HTTP_EXPORT_ALL "";
			fastcgi_param PATH_INFO \$uri;
			fastcgi_param REMOTE_USER \$remote_user;
			fastcgi_param REMOTE_ADDR \$remote_addr;
			fastcgi_param REQUEST_METHOD \$request_method;
			fastcgi_param QUERY_STRING \$query_string;
			fastcgi_param CONTENT_TYPE \$content_type;
			fastcgi_param CONTENT_LENGTH \$content_length;
			fastcgi_param SERVER_PROTOCOL \$server_protocol;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;
		}
	}
}
EOF
		_spawn "$dir/nginx.$HTTP_PORT.log" nginx -p "$dir" -c "$conf" -e "$dir/error.log"
		HTTP_NGINX_PID=$LAST_PID
		if wait_port "$HTTP_PORT"; then
			HTTP_URL="http://127.0.0.1:$HTTP_PORT"
			return 0
		fi
		_stop_pid "$HTTP_NGINX_PID"
	done
	cat "$dir"/*.log >&2
	return 1
}

http_stop() {
	if [ -n "${HTTP_NGINX_PID:-}" ]; then
		_stop_pid "$HTTP_NGINX_PID"
	fi
	if [ -n "${HTTP_FCGI_PID:-}" ]; then
		_stop_pid "$HTTP_FCGI_PID"
	fi
	HTTP_NGINX_PID= HTTP_FCGI_PID=
}

# Stops the process group of a pid started by _spawn, and waits for it.
_stop_pid() {
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	SERVERS_PIDS=$(echo " $SERVERS_PIDS " | sed "s/ $pid / /")
	return 0
}

servers_stop() {
	local pid
	for pid in $SERVERS_PIDS; do
		_stop_pid "$pid"
	done
	SERVERS_PIDS=
	GIT_DAEMON_PID= HTTP_NGINX_PID= HTTP_FCGI_PID=
	if [ -n "$SERVERS_DIR" ]; then
		rm -rf "$SERVERS_DIR"
	fi
	SERVERS_DIR=
	return 0
}

# central_repo ROOT NAME: an empty bare repository for a server to serve,
# refusing non-fast-forwards as docs/sync.md recommends.
central_repo() {
	git init -q --bare "$1/$2" &&
		git -C "$1/$2" config receive.denyNonFastForwards true &&
		git -C "$1/$2" config http.receivepack true
}
