from tinyface.data.ingestion.ingestion_summary import IngestionSummary


def test_skipped_faces_are_grouped_by_problem_and_round_trip():
    summary = IngestionSummary.from_messages(5, [
        "/d/b.pts:70: expected 68 points, found 12",
        "/d/a.pts: image file not found",
        "/d/c.pts:3: malformed number 'x'",
        "/d/e.png: image file not found",
    ])
    assert summary.skipped[0] == "/d/a.pts: image file not found"  # sorted, deterministic
    assert summary.faces_skipped == 4
    assert summary.skipped_by_reason["image file not found"] == 2
    assert summary.skipped_by_reason["expected 68 points, found 12"] == 1
    again = IngestionSummary.from_json(summary.to_json())
    assert again == summary
