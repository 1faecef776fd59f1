#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The speech `command` of the e2e speech case (run by pairgated's speech policy, one run per
# utterance, never through a shell of pairgated's: the configuration names /bin/sh and this file).
#   fake-speaker.sh DIR TEXT
# Records what it was asked to say, synthesises it with the REAL espeak-ng into DIR/utt-PID.wav,
# then "plays" it: the VM has no sound card, so playback is a 15 s wait standing for a speaker that
# is still talking. pairgated must stop the utterance (SIGTERM to its process group) when the
# pairing ends; the trap records when that happened. Every line goes to DIR/log with the guest's
# /proc/uptime, which the runner compares with the end of Pair().
dir=$1
text=$2
up() { cut -d' ' -f1 /proc/uptime; }
log() { printf '%s %s %s %s\n' "$1" "$(up)" "$$" "$2" >> "$dir/log"; }

trap 'log stopped "SIGTERM"; exit 0' TERM
log start "$text"
espeak-ng -w "$dir/utt-$$.wav" "$text" 2>> "$dir/espeak.err"
log synthesised "rc=$? wav=utt-$$.wav"
sleep 15 &
wait $!
log ended "natural end of playback"
