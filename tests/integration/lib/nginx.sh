# lib/nginx.sh: a Debian nginx of the test's own, as the target of http workloads (in a
# subfolder so that tests/tests.cmake does not take it for a test). One process (daemon off,
# master_process off), 127.0.0.1 on a free port, everything in $WORK/nginx; lib.sh's cleanup
# stops it with the test's other processes.
#
#   nginx_start [tls]   serves $WORK/nginx/www (page.html, 4 KB) on $NGINX_PORT; with tls, over
#                       https with a self-signed certificate for 127.0.0.1 ($WORK/nginx/cert.pem)
#   nginx_requests      requests nginx has answered so far (its access log)
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

nginx_start() {
    local dir=$WORK/nginx listen ssl=""
    mkdir -p "$dir/www"
    head -c 4096 /dev/zero | tr '\0' x >"$dir/www/page.html"
    NGINX_PORT=$(free_port)
    listen="127.0.0.1:$NGINX_PORT"
    if [ "${1:-}" = tls ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" \
            >/dev/null 2>&1 || fail "openssl could not make a certificate"
        listen="$listen ssl"
        ssl="ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;"
    fi
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen $listen; $ssl root $dir/www; }
}
CONF
    bg nginx nginx -p "$dir" -c "$dir/nginx.conf"
    local i
    for ((i = 0; i < 50; i++)); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $NGINX_PORT), 1)" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    fail "nginx did not start: $(tail -n 5 "$dir/error.log" 2>/dev/null)"
}

nginx_requests() { wc -l <"$WORK/nginx/access.log"; }
