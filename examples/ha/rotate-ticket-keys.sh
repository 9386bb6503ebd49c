#!/bin/sh
# Session ticket keys shared by a pair (or any number) of Fulcrum instances, so a client that
# fails over resumes its TLS session on the other node instead of a full handshake.
# Every node's config names the same file (docs/config.md, listeners[].tls.session_tickets):
#
#     tls:
#       certificates: [...]
#       session_tickets:
#         key_file: /etc/fulcrum/tickets.keys
#
# The file: one base64 key of 80 random bytes per line; the LAST line encrypts new tickets,
# every line decrypts. Fulcrum reads it again within about two seconds of a change (no reload).
# A rotation is two steps so that no node ever issues a ticket another node cannot read yet:
#
#   rotate-ticket-keys.sh FILE init      a new file with one key (run once, on one node)
#   rotate-ticket-keys.sh FILE stage     a new key added as the FIRST line: it only decrypts
#   rotate-ticket-keys.sh FILE promote   the first line moved to the end: it encrypts now;
#                                        only the newest KEEP keys stay (default 3)
#
# Run each step on one node and copy the file to the others (scp, config management), all of
# them before the next step; `fulcrum` logs "session ticket keys read again" with the key id
# when it has taken the file. Daily, from cron on the node that owns the file:
#
#   stage; copy to every node; wait a minute; promote; copy to every node
#
# With KEEP=3 and a daily rotation, a key encrypts for a day and still decrypts for two more:
# keep session_tickets.lifetime (2h by default) well below that. The file is a secret: whoever
# holds it can decrypt the tickets (and with them TLS 1.2 sessions). It is written 0600,
# atomically (a temporary file renamed over it).
set -eu
file=$1
step=$2
keep=${KEEP:-3}
tmp="$file.tmp.$$"
umask 077
newkey() { openssl rand 80 | base64 -w0; echo; }
case "$step" in
  init) newkey >"$tmp" ;;
  stage) { newkey; grep -v '^#' "$file" | grep -v '^$'; } >"$tmp" ;;
  promote)
    grep -v '^#' "$file" | grep -v '^$' >"$tmp.all"
    { tail -n +2 "$tmp.all" | tail -n $((keep - 1)); head -n 1 "$tmp.all"; } >"$tmp"
    rm -f "$tmp.all"
    ;;
  *) echo "usage: $0 FILE init|stage|promote" >&2; exit 2 ;;
esac
mv "$tmp" "$file"
