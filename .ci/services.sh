#!/usr/bin/env bash
# Makes sure Redis (127.0.0.1:6379), PostgreSQL (127.0.0.1:5432, database "test"), RabbitMQ
# (127.0.0.1:5672) and NATS with JetStream (127.0.0.1:4222) answer,
# starting or installing them when they do not.
set -uo pipefail

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis_up && break; sleep 0.2; done
fi
redis_up || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
echo "redis: up"

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then pg_createcluster 15 main || true; fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
fi
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1 ||
  psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null 2>&1 || true
echo "postgres: up"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rabbitmq_up() { port_open 5672; }
if ! rabbitmq_up; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  # A node that runs with its app stopped answers `start_app`; otherwise start the node.
  rabbitmqctl start_app >/dev/null 2>&1 || rabbitmq-server -detached
  for _ in $(seq 1 150); do rabbitmq_up && break; sleep 0.2; done
fi
rabbitmq_up || { echo "RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 1; }
echo "rabbitmq: up"

nats_up() { port_open 4222; }
if ! nats_up; then
  command -v nats-server >/dev/null || apt_install nats-server
  mkdir -p /var/lib/nats-server
  nohup nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log >/dev/null 2>&1 &
  for _ in $(seq 1 50); do nats_up && break; sleep 0.2; done
fi
nats_up || { echo "NATS is not reachable on 127.0.0.1:4222" >&2; exit 1; }
echo "nats: up"
