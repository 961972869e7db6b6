# /etc/cron.d/bulkjobs: the bulkjobs reaper every minute, for machines
# without systemd (with systemd: systemctl enable --now bulkjobs-reaper.timer;
# the test below keeps this line from running the reaper a second time).
#
# Uncomment the line once bulkjobs is configured (README.Debian): the
# database user exists and `bulkjobsctl migrate` has run. The reaper is
# silent on success (cron mails any output), exits at once when another
# reaper holds its lock, and runs the notifier itself afterwards.
MAILTO=root
PATH=/usr/bin:/bin
#* * * * * bulkjobs test -d /run/systemd/system || /usr/bin/bulkjobs-reaper -c /etc/bulkjobs/bulkjobs.conf
