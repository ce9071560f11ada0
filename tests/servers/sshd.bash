# An OpenSSH server on 127.0.0.1 for the sync tests (sourced; bash; after
# tests/servers/servers.bash, whose _spawn, free_port, wait_port, _stop_pid
# and servers_stop it uses).
#
#   . tests/servers/servers.bash
#   . tests/servers/sshd.bash
#   ssh_keypair FILE             an ed25519 key pair FILE, FILE.pub (no passphrase)
#   sshd_start [PORT]            sshd on 127.0.0.1:$SSHD_PORT, logging in as
#                                $SSHD_USER (the current user) with the keys
#                                listed in $SSHD_AUTH_KEYS only
#   sshd_authorize PUBFILE       adds a public key to $SSHD_AUTH_KEYS
#   sshd_known_hosts FILE        appends the server's host key, as
#                                "[127.0.0.1]:PORT ssh-ed25519 ...", to FILE
#   sshd_url PATH                ssh://$SSHD_USER@127.0.0.1:$SSHD_PORT/PATH
#   sshd_stop                    stops it (servers_stop does too)
#   agent_start                  an ssh-agent of our own: exports SSH_AUTH_SOCK
#
# The server has its own configuration in $SERVERS_DIR/sshd: a host key made
# here with ssh-keygen (a new one at every sshd_start unless SSHD_HOSTKEY
# names one), AuthorizedKeysFile pointing at a temporary file, passwords and
# keyboard-interactive off, no PAM, no forwarding, no tty. It runs as the
# current user: as root (CI) any account may log in, otherwise only that
# user. `sshd -D -e`: in the foreground, its log (LogLevel VERBOSE: one
# "Failed publickey" line per refused key) in $SSHD_LOG. The session's PATH
# is sshd's default (/usr/bin: git-upload-pack and git-receive-pack).
# Needs: openssh-server, openssh-client (tools/deps).

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

# ssh_keypair FILE [COMMENT]: a new ed25519 key without a passphrase.
# (ed25519: libssh2 1.10 signs RSA keys with ssh-rsa/SHA-1 only, which
# OpenSSH >= 8.8 refuses by default.)
ssh_keypair() {
	rm -f "$1" "$1.pub"
	ssh-keygen -q -t ed25519 -N '' -C "${2:-tidu-test}" -f "$1" </dev/null >/dev/null
}

# sshd_start [PORT]: a new server (a new host key unless SSHD_HOSTKEY is set).
sshd_start() {
	local dir conf tries port_arg=${1:-}
	servers_dir
	dir=$SERVERS_DIR/sshd
	mkdir -p "$dir"
	chmod 700 "$dir"
	SSHD_USER=$(id -un)
	SSHD_AUTH_KEYS=$dir/authorized_keys
	touch "$SSHD_AUTH_KEYS"
	chmod 600 "$SSHD_AUTH_KEYS"
	if [ -n "${SSHD_HOSTKEY:-}" ]; then
		SSHD_HOST_KEY=$SSHD_HOSTKEY
	else
		SSHD_HOST_KEY=$dir/host_ed25519_key
		ssh-keygen -q -t ed25519 -N '' -C tidu-test-host -f "$SSHD_HOST_KEY.new" </dev/null >/dev/null
		mv -f "$SSHD_HOST_KEY.new" "$SSHD_HOST_KEY"
		mv -f "$SSHD_HOST_KEY.new.pub" "$SSHD_HOST_KEY.pub"
	fi
	# sshd as root wants its privilege separation directory.
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd
		chmod 755 /run/sshd
	fi
	for tries in 1 2 3 4 5; do
		SSHD_PORT=${port_arg:-$(free_port)}
		conf=$dir/sshd_config
		cat >"$conf" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $SSHD_HOST_KEY
PidFile $dir/sshd.pid
AuthorizedKeysFile $SSHD_AUTH_KEYS
AuthorizedPrincipalsFile none
AllowUsers $SSHD_USER
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
MaxAuthTries 50
LoginGraceTime 60
PermitTTY no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
PermitUserEnvironment no
PermitUserRC no
PrintMotd no
UseDNS no
LogLevel VERBOSE
EOF
		"$SSHD_BIN" -t -f "$conf" || return 1
		SSHD_LOG=$dir/sshd.$SSHD_PORT.log
		_spawn "$SSHD_LOG" "$SSHD_BIN" -D -e -f "$conf"
		SSHD_PID=$LAST_PID
		if wait_port "$SSHD_PORT"; then
			return 0
		fi
		_stop_pid "$SSHD_PID"
		[ -z "$port_arg" ] || break
	done
	cat "$dir"/sshd.*.log >&2
	return 1
}

sshd_stop() {
	if [ -n "${SSHD_PID:-}" ]; then
		_stop_pid "$SSHD_PID"
	fi
	SSHD_PID=
}

# sshd_authorize PUBFILE: may log in (no tty, no forwarding).
sshd_authorize() {
	printf 'restrict %s\n' "$(cat "$1")" >>"$SSHD_AUTH_KEYS"
}

# sshd_known_hosts FILE: the server's host key, as OpenSSH records it for a
# port other than 22.
sshd_known_hosts() {
	mkdir -p "$(dirname "$1")"
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$SSHD_HOST_KEY.pub")" >>"$1"
}

# sshd_url ABSPATH
sshd_url() {
	printf 'ssh://%s@127.0.0.1:%s%s\n' "$SSHD_USER" "$SSHD_PORT" "$1"
}

# agent_start: an ssh-agent in the foreground (-D) on a socket of ours,
# stopped by servers_stop like the servers.
agent_start() {
	local i
	servers_dir
	export SSH_AUTH_SOCK=$SERVERS_DIR/agent.sock
	_spawn "$SERVERS_DIR/ssh-agent.log" ssh-agent -D -a "$SSH_AUTH_SOCK"
	AGENT_PID=$LAST_PID
	for i in $(seq 1 100); do
		[ -S "$SSH_AUTH_SOCK" ] && return 0
		sleep 0.05
	done
	echo "ssh-agent did not start" >&2
	return 1
}
