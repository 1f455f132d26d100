//! Model quality on the full snapshot with the default parameters.

use core_model::{Table, TrainParams, train};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

#[test]
fn default_model_meets_the_quality_bar_on_the_snapshot() {
    let dataset = Table::read_path(std::path::Path::new(AMES_CSV))
        .expect("snapshot reads")
        .into_dataset()
        .expect("snapshot is a valid dataset");
    assert_eq!(dataset.len(), 1460);
    let params = TrainParams::default();
    let mut folds_seen = 0;
    let trained = train::train(&dataset, &params, &mut |progress| {
        if let train::Progress::Fold { .. } = progress {
            folds_seen += 1;
        }
    })
    .expect("training succeeds");
    let cv = &trained.cv;

    assert_eq!(folds_seen, 15, "5 folds × 3 repetitions");
    assert_eq!(cv.folds.len(), 5);
    assert_eq!(trained.dropped_outliers, vec![524, 1299]);
    // The trees see every row, the linear part the 1,458 the outlier rule keeps.
    assert_eq!(trained.rows, 1460);
    // Cross-validation scores every row, the outliers included.
    assert_eq!(cv.overall.n, 1460);
    assert_eq!(cv.kept.n, 1458);
    assert!(
        cv.overall.rmse_log <= 0.115,
        "pooled 5-fold CV rmse_log of the blend on all rows {:.4} > 0.115",
        cv.overall.rmse_log
    );
    assert!(
        cv.kept.rmse_log <= 0.112,
        "pooled 5-fold CV rmse_log of the blend on the kept rows {:.4} > 0.112",
        cv.kept.rmse_log
    );
    let q = &trained.quality;
    assert_eq!((q.folds, q.repeats), (5, 3));
    assert_eq!((q.rows, q.kept_rows), (1460, 1458));
    assert!(
        q.holdout_test_rows > 300 && q.holdout_train_rows > 1000,
        "{q:?}"
    );
    // Bounds on all rows and on the kept rows.
    for (kind, all, kept) in [
        (core_model::ModelKind::Linear, 0.127, 0.115),
        (core_model::ModelKind::Gbm, 0.125, 0.122),
        (core_model::ModelKind::Blend, 0.115, 0.112),
    ] {
        let m = q.of(kind);
        assert!(m.cv_rmse_log_mean <= all, "{}: {m:?}", kind.name());
        assert!(m.cv_kept_rmse_log_mean <= kept, "{}: {m:?}", kind.name());
        assert!(m.cv_rmse_log_sd < 0.005, "{}: {m:?}", kind.name());
        let holdout = m.holdout.expect("a time holdout");
        assert!(
            holdout.rmse_log <= kept + 0.015,
            "{}: {holdout:?}",
            kind.name()
        );
    }
    // The gate prices the houses beyond the linear part's size range by the trees.
    assert_eq!(q.blend_gbm_weight_out_of_range, Some(1.0));
    // The blend beats either part on the same folds.
    assert!(q.blend.cv_rmse_log_mean < q.linear.cv_rmse_log_mean.min(q.gbm.cv_rmse_log_mean));
    assert!(
        q.blend.cv_kept_rmse_log_mean
            < q.linear
                .cv_kept_rmse_log_mean
                .min(q.gbm.cv_kept_rmse_log_mean)
    );
    assert!((0.0..=1.0).contains(&q.blend_gbm_weight));
    assert!(
        (0.75..=0.85).contains(&cv.interval_coverage),
        "80% interval covers {:.3} of held-out prices",
        cv.interval_coverage
    );
    // The final model must fit its own rows at least as well as it predicts unseen ones.
    assert!(trained.train.rmse_log <= cv.overall.rmse_log);
}
