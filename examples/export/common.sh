# common.sh: settings shared by the export example's scripts (sourced).
# DEMO_DB_SOCKET  the MariaDB socket of the sample application database
# DEMO_DB_NAME    its name (default bulkjobs_demo_app)
# DEMO_DB_USER    its user (default root)
DEMO_DB_SOCKET=${DEMO_DB_SOCKET:-/run/mysqld/mysqld.sock}
DEMO_DB_NAME=${DEMO_DB_NAME:-bulkjobs_demo_app}
DEMO_DB_USER=${DEMO_DB_USER:-root}
# the relations exported in parallel, one item each (GitLab exports one file per relation)
EXPORT_TABLES="projects milestones labels issues issue_labels"

sql() {
	mariadb --no-defaults --socket="$DEMO_DB_SOCKET" -u"$DEMO_DB_USER" \
		--batch --skip-column-names --raw "$@"
}
