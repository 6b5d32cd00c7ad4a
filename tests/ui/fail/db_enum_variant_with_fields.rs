use repo_runtime::DbEnum;

#[derive(DbEnum)]
enum Shape {
    Point,
    Circle { radius: f64 },
}

fn main() {}
