//! The command-line rules, form by form: every form with its exact masked result, the
//! look-alikes that must stay, and random scripts.

use super::*;

/// Every form the secrets issue lists, with its masked result: the secret (`S3cr`...) never
/// survives, and everything else stays readable.
#[test]
fn every_form_is_masked_and_the_rest_stays() {
    let table: &[(&str, &str)] = &[
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
    for (line, expected) in table {
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

/// `line` (shell words) as logged, word by word.
#[track_caller]
fn shown(line: &str) -> Vec<String> {
    let argv = shlex::split(line).unwrap();
    let shown = command_line(&argv, None);
    assert_eq!(shown.len(), argv.len(), "{line}");
    shown
}

/// The forms of the second pass (issue 20): scripts split at every operator, the rules in
/// any word behind any wrapper, the clients with short options; each with its exact result.
#[test]
fn the_forms_of_the_second_pass_are_masked_and_the_rest_stays() {
    let table: &[(&str, &str)] = &[
        // Scripts: every operator, keyword and substitution; the script stays byte for byte.
        (
            "bash -c 'cd /x\nmysql -pS3cret db\necho ok'",
            "bash -c 'cd /x\nmysql -p*** db\necho ok'",
        ),
        ("sh -c 'a;mysql -pS3cret'", "sh -c 'a;mysql -p***'"),
        (
            "sh -c 'mysql -pS3cret&&echo ok'",
            "sh -c 'mysql -p***&&echo ok'",
        ),
        (
            "sh -c 'true||mysql -pS3cret|cat'",
            "sh -c 'true||mysql -p***|cat'",
        ),
        ("sh -c 'mysql -pS3cret& wait'", "sh -c 'mysql -p***& wait'"),
        (
            "sh -c 'if true; then mysql -pS3cret; fi'",
            "sh -c 'if true; then mysql -p***; fi'",
        ),
        (
            "sh -c 'for i in 1 2; do mysql -pS3cret$i; done'",
            "sh -c 'for i in 1 2; do mysql -p***; done'",
        ),
        (
            "sh -c 'while :; do mysql -pS3cret; done'",
            "sh -c 'while :; do mysql -p***; done'",
        ),
        ("sh -c '(mysql -pS3cret)'", "sh -c '(mysql -p***)'"),
        ("sh -c '{ mysql -pS3cret; }'", "sh -c '{ mysql -p***; }'"),
        (
            "sh -c 'echo $(mysql -pS3cret -e \"select 1\")'",
            "sh -c 'echo $(mysql -p*** -e \"select 1\")'",
        ),
        (
            "sh -c 'x=\"$(mysql -pS3cret)\"'",
            "sh -c 'x=\"$(mysql -p***)\"'",
        ),
        (
            "sh -c 'echo `mysql -pS3cret`'",
            "sh -c 'echo `mysql -p***`'",
        ),
        (
            "sh -c 'diff <(mysql -pS3cret) x'",
            "sh -c 'diff <(mysql -p***) x'",
        ),
        (
            "sh -c 'mysql -pS3cret 2>/dev/null | grep x'",
            "sh -c 'mysql -p*** 2>/dev/null | grep x'",
        ),
        (
            "bash -c 'mysql -p\"S3c ret\" db'",
            "bash -c 'mysql -p\"***\" db'",
        ),
        ("sh -c -- 'mysql -pS3cret'", "sh -c -- 'mysql -p***'"),
        // Here-documents: the body is input (masked as recorded input is), not commands; a
        // quote in it opens nothing.
        (
            "sh -c 'cat <<EOF
it'\\''s
EOF
mysql -pS3cret'",
            "sh -c 'cat <<EOF
it'\\''s
EOF
mysql -p***'",
        ),
        (
            "sh -c \"mysql <<-'END'
	ALTER USER a IDENTIFIED BY 'S3cret';
	END
echo ok\"",
            "sh -c \"mysql <<-'END'
	ALTER USER a IDENTIFIED BY '***';
	END
echo ok\"",
        ),
        (
            "bash -c 'psql <<<\"x\" postgres://u:S3cret@h'",
            "bash -c 'psql <<<\"x\" postgres://u:***@h'",
        ),
        ("bash -x -c 'mysql -pS3cret'", "bash -x -c 'mysql -p***'"),
        ("bash -lc 'mysql -pS3cret'", "bash -lc 'mysql -p***'"),
        (
            "bash -o pipefail -c 'mysql -pS3cret | gzip'",
            "bash -o pipefail -c 'mysql -p*** | gzip'",
        ),
        (
            "sh -c 'export API_TOKEN=S3cret; ./deploy'",
            "sh -c 'export API_TOKEN=***; ./deploy'",
        ),
        (
            "sh -c 'sh -c \"mysql -pS3cret; echo\"'",
            "sh -c 'sh -c \"mysql -p***; echo\"'",
        ),
        (
            "env -S 'PGPASSWORD=S3cret psql -h db'",
            "env -S 'PGPASSWORD=*** psql -h db'",
        ),
        (
            "ssh db1 'cd /x && mysql -pS3cret'",
            "ssh db1 'cd /x && mysql -p***'",
        ),
        (
            "ssh db1 cd /x ';' mysql -pS3cret",
            "ssh db1 cd /x ';' mysql -p***",
        ),
        ("eval 'mysql -pS3cret'", "eval 'mysql -p***'"),
        // Wrappers, known or not.
        (
            "sudo -iu root mysql -pS3cret db",
            "sudo -iu root mysql -p*** db",
        ),
        (
            "xargs -I{} mysql -pS3cret -e {}",
            "xargs -I{} mysql -p*** -e {}",
        ),
        (
            "docker compose exec db mysql -uroot -pS3cret",
            "docker compose exec db mysql -uroot -p***",
        ),
        (
            "su -c 'mysql -pS3cret' postgres",
            "su -c 'mysql -p***' postgres",
        ),
        (
            "su - postgres -c 'PGPASSWORD=S3cret psql'",
            "su - postgres -c 'PGPASSWORD=*** psql'",
        ),
        (
            "runuser -u mysql -- mysql -pS3cret",
            "runuser -u mysql -- mysql -p***",
        ),
        (
            "runuser -l postgres --command='mysql -pS3cret'",
            "runuser -l postgres '--command=mysql -p***'",
        ),
        (
            "strace -f -o /tmp/t mysql -pS3cret",
            "strace -f -o /tmp/t mysql -p***",
        ),
        ("flock /tmp/l mysql -pS3cret", "flock /tmp/l mysql -p***"),
        (
            "flock /tmp/l -c 'mysql -pS3cret db'",
            "flock /tmp/l -c 'mysql -p*** db'",
        ),
        (
            "watch -n 5 'mysql -pS3cret -e status'",
            "watch -n 5 'mysql -p*** -e status'",
        ),
        (
            "somewrapper --x y mysql -pS3cret",
            "somewrapper --x y mysql -p***",
        ),
        ("time nohup mysql -pS3cret", "time nohup mysql -p***"),
        // Secret-looking names, in any program.
        (
            "env DATABASE_URL=postgres://app:S3cret@db/app ./run",
            "env DATABASE_URL=postgres://app:***@db/app ./run",
        ),
        (
            "env AWS_SECRET_ACCESS_KEY=S3cret aws s3 ls",
            "env AWS_SECRET_ACCESS_KEY=*** aws s3 ls",
        ),
        (
            "docker login -u me --password S3cret r.io",
            "docker login -u me --password *** r.io",
        ),
        (
            "docker login -u me -p S3cret r.io",
            "docker login -u me -p *** r.io",
        ),
        ("docker login -pS3cret r.io", "docker login -p*** r.io"),
        (
            "docker run --rm -e MYSQL_ROOT_PASSWORD=S3cret mysql:8",
            "docker run --rm -e MYSQL_ROOT_PASSWORD=*** mysql:8",
        ),
        (
            "kubectl --token S3cret get pods",
            "kubectl --token *** get pods",
        ),
        (
            "kubectl get pods --token=S3cret",
            "kubectl get pods --token=***",
        ),
        (
            "kubectl create secret generic db --from-literal=password=S3cret",
            "kubectl create secret generic db --from-literal=password=***",
        ),
        (
            "tool --client-secret S3cret x",
            "tool --client-secret *** x",
        ),
        ("tool --passwd S3cret", "tool --passwd ***"),
        ("tool --pass S3cret", "tool --pass ***"),
        ("tool --auth S3cret", "tool --auth ***"),
        ("tool --credentials S3cret", "tool --credentials ***"),
        ("tool --private-key S3cret", "tool --private-key ***"),
        ("tool --apikey S3cret", "tool --apikey ***"),
        (
            "helm repo add x u --password S3cret",
            "helm repo add x u --password ***",
        ),
        (
            "wget --http-password=S3cret u",
            "wget --http-password=*** u",
        ),
        (
            "keytool -list -storepass S3cret",
            "keytool -list -storepass ***",
        ),
        (
            "mount -o username=u,password=S3cret //h/s /mnt",
            "mount -o username=u,password=*** //h/s /mnt",
        ),
        (
            "tool -Ddb.password=S3cret -jar x.jar",
            "tool -Ddb.password=*** -jar x.jar",
        ),
        (
            "curl https://api/x?access_token=S3cret&n=1",
            "curl 'https://api/x?access_token=***&n=1'",
        ),
        // HTTP credentials.
        (
            "curl -H 'Authorization: Bearer S3cret' https://x",
            "curl -H 'Authorization: Bearer ***' https://x",
        ),
        (
            "curl -H 'authorization: Basic S3cret' https://x",
            "curl -H 'authorization: Basic ***' https://x",
        ),
        (
            "curl -H 'X-Api-Key: S3cret' https://x",
            "curl -H 'X-Api-Key: ***' https://x",
        ),
        (
            "curl --header 'PRIVATE-TOKEN: S3cret' https://x",
            "curl --header 'PRIVATE-TOKEN: ***' https://x",
        ),
        (
            "git -c 'http.extraHeader=Authorization: Bearer S3cret' clone u",
            "git -c 'http.extraHeader=Authorization: Bearer ***' clone u",
        ),
        // Clients with short options.
        (
            "curl -u user:S3cret https://x",
            "curl -u user:*** https://x",
        ),
        ("curl -uuser:S3cret https://x", "curl -uuser:*** https://x"),
        (
            "curl -su user:S3cret https://x",
            "curl -su user:*** https://x",
        ),
        (
            "curl --user user:S3cret https://x",
            "curl --user user:*** https://x",
        ),
        (
            "curl --user=user:S3cret https://x",
            "curl --user=user:*** https://x",
        ),
        (
            "sshpass -p S3cret ssh db1 uptime",
            "sshpass -p *** ssh db1 uptime",
        ),
        ("sshpass -pS3cret ssh db1", "sshpass -p*** ssh db1"),
        ("redis-cli -a S3cret ping", "redis-cli -a *** ping"),
        (
            "redis-cli -h db -p 6379 -a S3cret ping",
            "redis-cli -h db -p 6379 -a *** ping",
        ),
        (
            "mongosh -u admin -p S3cret db",
            "mongosh -u admin -p *** db",
        ),
        (
            "mongosh mongodb://admin:S3cret@db/app",
            "mongosh mongodb://admin:***@db/app",
        ),
        (
            "openssl enc -aes-256-cbc -pass pass:S3cret -in f",
            "openssl enc -aes-256-cbc -pass pass:*** -in f",
        ),
        (
            "openssl rsa -passin pass:S3cret -passout pass:S3cret2",
            "openssl rsa -passin pass:*** -passout pass:***",
        ),
        (
            "ldapsearch -x -D cn=admin -w S3cret -b dc=x",
            "ldapsearch -x -D cn=admin -w *** -b dc=x",
        ),
        ("ldapsearch -x -wS3cret", "ldapsearch -x -w***"),
        ("ldapsearch -xw S3cret", "ldapsearch -xw ***"),
        (
            "ldappasswd -x -w S3cret -a S3cret2 -s S3cret3 uid=x",
            "ldappasswd -x -w *** -a *** -s *** uid=x",
        ),
    ];
    for (line, expected) in table {
        let got = shown(line);
        assert_eq!(got, shlex::split(expected).unwrap(), "{line}");
        assert!(got.iter().all(|w| !w.contains("S3c")), "{line}: {got:?}");
    }
}

/// Words that look like the forms above and must stay as they are.
#[test]
fn look_alikes_stay_unchanged() {
    for line in [
        "tool --passes 3",
        "grep password file",
        "grep -r token /etc/mysql",
        "ls -p",
        "tokenize x",
        "tool --no-password x",
        "psql -W db",
        "psql --password app",
        "mysql -p db",
        "mysql --password db",
        "mysql -u root mysql",
        "curl -u user https://x",
        "curl -H 'Accept: text/plain' https://x",
        "tool --password-file /etc/pw x",
        "docker login --password-stdin r.io",
        "docker run -p 8080:80 nginx",
        "env TOKENIZERS_PARALLELISM=false python x",
        "env PWD=/x OLDPWD=/y make",
        "env PASSWORD_STORE_DIR=/x pass",
        "sh -c 'echo ${HOME}; ls {a,b}'",
        "sh -c 'grep -i token file && echo ok'",
        "sh -c 'echo \"it'\\''s\" # a comment'",
        "ssh -p 22 db1 uptime",
        "openssl rsa -passin env:PW -in k",
        "openssl rsa -passin file:/etc/pw -in k",
        "ldapsearch -y /etc/ldap.pw -x -W",
        "mongosh -u admin -p",
        "mongosh -p --quiet",
        "redis-cli -p 6379 ping",
        "ansible-playbook --ask-pass site.yml",
        "tool --token-type bearer",
        "git commit -m 'fix the typo'",
        "make -j2",
        "tool --bypass x",
    ] {
        assert_eq!(shown(line), shlex::split(line).unwrap(), "{line}");
    }
}

/// Random scripts made of the forms above, joined by every operator, nested in every
/// construct: the secret never shows, nothing panics, and only masked bytes change (the
/// masked script without its `***` is a subsequence of the script).
#[test]
fn random_scripts_show_no_secret_and_keep_every_other_byte() {
    let secrets = [
        "mysql -pS3cretZ db",
        "PGPASSWORD=S3cretZ psql",
        "tool --token S3cretZ",
        "curl -u u:S3cretZ x",
        "psql postgres://u:S3cretZ@h/d",
        "env API_KEY=S3cretZ x",
        "sudo -iu r mysql --password=S3cretZ",
        "sshpass -p S3cretZ ssh h",
        "curl -H 'Authorization: Bearer S3cretZ' x",
    ];
    let plain = ["echo ok", "true", "cd /tmp", "grep -i x f", "ls -p"];
    let operators = [";", "&&", "||", "|", "&", "\n", " ; "];
    let mut random = crate::format::testing::xorshift(0x2545_f491_4f6c_dd1d);
    let mut next = |n: usize| (random() % n as u64) as usize;
    for _ in 0..3000 {
        let mut script = String::new();
        for k in 0..1 + next(4) {
            if k > 0 {
                script.push_str(operators[next(operators.len())]);
            }
            let command = if next(2) == 0 {
                secrets[next(secrets.len())]
            } else {
                plain[next(plain.len())]
            };
            let command = match next(7) {
                0 => format!("( {command} )"),
                1 => format!("{{ {command}; }}"),
                2 => format!("echo $({command})"),
                3 => format!("x=\"$({command})\""),
                4 => format!("if true; then {command}; fi"),
                5 => format!("xargs {command}"),
                _ => command.to_owned(),
            };
            script.push_str(&command);
        }
        let argv: Vec<String> = ["sh", "-c", &script].map(String::from).into();
        let shown = &command_line(&argv, None)[2];
        assert!(!shown.contains("S3cretZ"), "{script:?} -> {shown:?}");
        let mut rest = script.bytes();
        assert!(
            shown
                .replace(MASK, "")
                .bytes()
                .all(|b| rest.any(|c| c == b)),
            "{script:?} -> {shown:?}"
        );
    }
    // Long lines of programs, operators, quotes and substitutions: no stack overflow.
    for piece in [
        "sh ",
        "mysql ",
        "sudo ",
        "sh -c '",
        "$(",
        "\"$(",
        "bash -c \"",
        "( ",
    ] {
        let line = piece.repeat(65536 / piece.len());
        let _ = mask_script(&line);
        let _ = command_line(&shlex::split(&line).unwrap_or_default(), None);
    }
    // Any text at all: no panic.
    let pieces = [
        "'", "\"", "\\", "$(", ")", "`", "{", "}", "<", ">", "&", "|", ";", "\n", "#", "$'", "=",
        ":", "-p", "--token", "é", " ", "://", "@", "sh", "-c", "x",
    ];
    for _ in 0..20_000 {
        let text: String = (0..next(14)).map(|_| pieces[next(pieces.len())]).collect();
        let _ = mask_script(&text);
        let _ = command_line(&["sh".into(), "-c".into(), text.clone(), text], None);
    }
}

#[test]
fn a_preset_chooses_the_rules_for_its_program() {
    let argv: Vec<String> = ["redis-cli", "-a", "S3cret", "ping"]
        .map(String::from)
        .into();
    let shown = command_line(&argv, Some((Secrets::Generic, &["-a".to_owned()])));
    assert_eq!(shown, ["redis-cli", "-a", "***", "ping"]);
}
