use blocklab::{ColType, Column, Config, Database, Value};

#[test]
fn insert_commit_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    {
        let db = Database::open(dir.path(), cfg.clone()).unwrap();
        let mut s = db.session();
        s.create_table(
            "t",
            &[
                Column::new("id", ColType::Integer),
                Column::new("name", ColType::Text),
            ],
        )
        .unwrap();
        for i in 0..1000 {
            s.insert("t", vec![Value::Int(i), Value::Text(format!("row {i}"))])
                .unwrap();
        }
        s.commit().unwrap();
        let mut s2 = db.session();
        assert_eq!(s2.scan("t").unwrap().len(), 1000);
        let rows = s.scan("t").unwrap();
        s.update(
            "t",
            rows[0].0,
            vec![Value::Int(-1), Value::Text("x".into())],
        )
        .unwrap();
        s.delete("t", rows[1].0).unwrap();
        // uncommitted: other session sees old
        let r2 = s2.scan("t").unwrap();
        assert_eq!(r2.len(), 1000);
        assert_eq!(r2[0].1[0], Value::Int(0));
        println!("{}", s2.stats());
        s.rollback().unwrap();
        assert_eq!(s.scan("t").unwrap().len(), 1000);
    }
    let db = Database::open(dir.path(), cfg).unwrap();
    let mut s = db.session();
    assert_eq!(s.scan("t").unwrap().len(), 1000);
}
