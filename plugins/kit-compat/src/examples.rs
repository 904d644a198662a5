//! Example exchanges of `kit-usd-viewer`, true for a live host on `sample_yup.usda`. They must be
//! replayed over a connection in the `kit` dialect (`/ws?dialect=kit`).

use ovhost_plugin_api::HandlerExample;

pub fn examples() -> Vec<HandlerExample> {
    let ex = HandlerExample::new;
    vec![
        ex(
            r#"{"event_type":"loadingStateQuery","payload":{}}"#,
            &[r#"{"event_type":"loadingStateResponse","payload":{"loading_state":"idle"}}"#],
        ),
        ex(
            r#"{"event_type":"openStageRequest","payload":{"url":"sample_yup.usda"}}"#,
            &[
                r#"{"event_type":"openedStageResult","payload":{"url":"sample_yup.usda","result":"success","error":""}}"#,
            ],
        ),
        ex(
            r#"{"event_type":"getChildrenRequest","payload":{"prim_path":"/World","filters":["USDGeom"]}}"#,
            &[
                r#"{"event_type":"getChildrenResponse","payload":{"prim_path":"/World","children":[{"name":"Ground","path":"/World/Ground"}]}}"#,
            ],
        ),
        ex(
            r#"{"event_type":"getChildrenRequest","payload":{"prim_path":"/World/Props","filters":["xform"]}}"#,
            &[
                r#"{"event_type":"getChildrenResponse","payload":{"prim_path":"/World/Props","children":[{"name":"RedGroup","path":"/World/Props/RedGroup","children":[]},{"name":"Showcase","path":"/World/Props/Showcase","children":[]}]}}"#,
            ],
        ),
        ex(
            r#"{"event_type":"resetStage","payload":{}}"#,
            &[r#"{"event_type":"resetStageResponse","payload":{"result":"success","error":""}}"#],
        ),
        ex(
            r#"{"event_type":"makePrimsPickable","payload":{"paths":["/World/Ground"]}}"#,
            &[r#"{"event_type":"makePrimsPickableResponse","payload":{"result":"success","error":""}}"#],
        ),
    ]
}
