#!/bin/sh
# tgm.conf.5.sh - write the tgm.conf(5) man page to stdout from the output of
# `tgmctl config --defaults` (its first argument: the tgmctl binary), so the page
# lists exactly the keys of common/config.c's table and cannot drift from it.
set -eu
tgmctl=${1:?usage: tgm.conf.5.sh TGMCTL}
cat <<'HEAD'
.TH TGM.CONF 5 "" "tgm" "File formats"
.SH NAME
tgm.conf \- configuration of the tgm daemons and tgmctl
.SH SYNOPSIS
.I /etc/tgm/tgm.conf
.SH DESCRIPTION
One INI file read by gatewayd, senderd, webhookd, billingd and tgmctl:
.B [section]
headers and
.B key = value
lines; a string value may be quoted; lines starting with
.B #
are comments.
Any key can be overridden by the environment variable
.BR TGM_ \fISECTION\fB_\fIKEY\fR,
e.g.
.BR TGM_DATABASE_URL .
Secret keys are also read from systemd credentials
.RI ( $CREDENTIALS_DIRECTORY/ section . key ).
Keys marked (reload) take effect on SIGHUP; the others need a restart.
.B tgmctl config \-\-defaults
prints this whole file with its defaults.
.SH KEYS
HEAD
"$tgmctl" config --defaults | awk '
function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
/^\[/ { gsub(/[][]/, ""); printf ".SS [%s]\n", $0; seen = 1; next }
!seen { next }
/^# / { help = substr($0, 3); next }
/^[a-z_0-9]+ = / {
	key = $1; def = substr($0, length($1) + 4)
	printf ".TP\n.B %s\n%s\n.br\nDefault: %s\n", esc(key), esc(help), esc(def)
}'
cat <<'TAIL'
.SH FILES
.I /etc/tgm/tgm.conf
.SH SEE ALSO
.BR tgmctl (8),
.BR tgm\-daemons (8),
.BR systemd.exec (5)
.P
docs/configuration.md in the tgm source tree.
TAIL
