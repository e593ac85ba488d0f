//! Every form the secrets issue lists: the mysql family, PostgreSQL, secret variables,
//! wrappers, shell scripts.

use super::super::*;

/// The forms, each with its masked result.
const FORMS: &[(&str, &str)] = &[
    // The mysql family.
    ("mysql -u u -pS3cret db", "mysql -u u -p*** db"),
    ("mysql -vpS3cret db", "mysql -vp*** db"),
    ("mysql -uroot -p db", "mysql -uroot -p db"),
    ("mysql --password=S3cret", "mysql --password=***"),
    ("mysql --pass=S3cret", "mysql --pass=***"),
    (
        "mysql --loose-password=S3cret",
        "mysql --loose-password=***",
    ),
    ("mysql --password db", "mysql --password db"),
    ("mariadb-dump -pS3cret shop", "mariadb-dump -p*** shop"),
    (
        "mysqldump --password=S3cret shop",
        "mysqldump --password=*** shop",
    ),
    (
        "mysqlimport -pS3cret shop f.csv",
        "mysqlimport -p*** shop f.csv",
    ),
    (
        "mysqladmin -u root password N3wS3cret",
        "mysqladmin -u root password ***",
    ),
    ("mysqlsh root:S3cret@db1:3306", "mysqlsh root:***@db1:3306"),
    (
        "mysqlsh mysql://root:S3cret@db1",
        "mysqlsh mysql://root:***@db1",
    ),
    // PostgreSQL.
    (
        "psql postgresql://u:S3cret@db/app",
        "psql postgresql://u:***@db/app",
    ),
    (
        "psql postgresql://u:S3?c#r/t@db/app?sslmode=require",
        "psql postgresql://u:***@db/app?sslmode=require",
    ),
    (
        "psql 'postgresql://u:S3c ret@db/app'",
        "psql postgresql://u:***@db/app",
    ),
    (
        "sh -c 'psql postgres://a:S3cret@h1 && psql postgres://b@h2'",
        "sh -c 'psql postgres://a:***@h1 && psql postgres://b@h2'",
    ),
    (
        "psql postgresql://u@db/app?sslmode=require&password=S3cret",
        "psql postgresql://u@db/app?sslmode=require&password=***",
    ),
    (
        "psql 'host=db password=S3cret dbname=app'",
        "psql 'host=db password=*** dbname=app'",
    ),
    ("psql -W -d app", "psql -W -d app"),
    ("psql --password app", "psql --password app"),
    // Secret variables, wherever they are.
    (
        "env PGPASSWORD=S3cret psql -h db",
        "env PGPASSWORD=*** psql -h db",
    ),
    ("env MYSQL_PWD=S3cret mysql", "env MYSQL_PWD=*** mysql"),
    (
        "env DEPLOY_TOKEN=S3cret GITHUB_API_KEY=S3cret2 ./deploy",
        "env DEPLOY_TOKEN=*** GITHUB_API_KEY=*** ./deploy",
    ),
    ("env PATH=/bin make", "env PATH=/bin make"),
    // Wrappers.
    (
        "sudo -u postgres psql postgres://a:S3cret@h",
        "sudo -u postgres psql postgres://a:***@h",
    ),
    ("timeout 600 mysql -pS3cret", "timeout 600 mysql -p***"),
    (
        "timeout -s INT 60 mysql -pS3cret",
        "timeout -s INT 60 mysql -p***",
    ),
    (
        "nice -n 5 ionice -c 3 mysql -pS3cret",
        "nice -n 5 ionice -c 3 mysql -p***",
    ),
    ("stdbuf -oL mysql -pS3cret", "stdbuf -oL mysql -p***"),
    ("nohup doas mysql -pS3cret", "nohup doas mysql -p***"),
    ("chroot /srv mysql -pS3cret", "chroot /srv mysql -p***"),
    (
        "docker exec -it db mysql -uroot -pS3cret",
        "docker exec -it db mysql -uroot -p***",
    ),
    (
        "docker exec -e MYSQL_PWD=S3cret db mysql",
        "docker exec -e MYSQL_PWD=*** db mysql",
    ),
    (
        "podman run --rm -e X=1 img mysql -pS3cret",
        "podman run --rm -e X=1 img mysql -p***",
    ),
    (
        "kubectl exec -n prod db-0 -- mysql -pS3cret",
        "kubectl exec -n prod db-0 -- mysql -p***",
    ),
    ("ssh -p 22 db1 mysql -pS3cret", "ssh -p 22 db1 mysql -p***"),
    (
        "ssh db1 'mysql -pS3cret shop'",
        "ssh db1 'mysql -p*** shop'",
    ),
    (
        "kubectl exec -it db-0 -c mysql -- mysql -pS3cret",
        "kubectl exec -it db-0 -c mysql -- mysql -p***",
    ),
    (
        "env -i PGPASSWORD=S3cret psql",
        "env -i PGPASSWORD=*** psql",
    ),
    ("env 'MYSQL_PWD=S3c ret' mysql", "env MYSQL_PWD=*** mysql"),
    (
        "docker exec -e 'MYSQL_PWD=S3c ret' db mysql",
        "docker exec -e MYSQL_PWD=*** db mysql",
    ),
    (
        "sudo --user=pg mysql -pS3cret",
        "sudo --user=pg mysql -p***",
    ),
    (
        "timeout --signal=KILL 5 mysql -pS3cret",
        "timeout --signal=KILL 5 mysql -p***",
    ),
    (
        "docker exec db sh -c 'mysql -pS3cret'",
        "docker exec db sh -c 'mysql -p***'",
    ),
    (
        "ssh -t db1 sudo mysql --password=S3cret",
        "ssh -t db1 sudo mysql --password=***",
    ),
    // Shell scripts.
    (
        "bash -c 'MYSQL_PWD=\"S3c ret\" mysql'",
        "bash -c 'MYSQL_PWD=\"***\" mysql'",
    ),
    (
        "sh -c 'mysql -pS3cret < x.sql'",
        "sh -c 'mysql -p*** < x.sql'",
    ),
    (
        "bash -c 'PGPASSWORD=S3cret psql -h db; echo done'",
        "bash -c 'PGPASSWORD=*** psql -h db; echo done'",
    ),
    (
        "sh -c 'cd /x && mysql --password=S3cret'",
        "sh -c 'cd /x && mysql --password=***'",
    ),
    // Everything else.
    (
        "curl --token S3cret https://x",
        "curl --token *** https://x",
    ),
    ("tool --api-key=S3cret", "tool --api-key=***"),
    ("psql -p 5432", "psql -p 5432"),
    ("make -j2", "make -j2"),
];

/// Every form the secrets issue lists, with its masked result: the secret (`S3cr`...) never
/// survives, and everything else stays readable.
#[test]
fn every_form_is_masked_and_the_rest_stays() {
    for (line, expected) in FORMS {
        let argv = shlex::split(line).unwrap();
        let shown = command_line(&argv, None);
        let expected = shlex::split(expected).unwrap();
        assert_eq!(shown, expected, "{line}");
        assert!(
            shown.iter().all(|w| !w.contains("S3cr")),
            "{line}: {shown:?}"
        );
    }
}
