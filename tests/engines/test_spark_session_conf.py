"""The settings of a Spark session tieout starts (`tieout.engines.spark.session_conf`): the project's `spark.conf`
as given, and a JVM that logs only errors (docs/spark.md) unless the user names their own log configuration.
Checked by hand on the demo (`engine: spark`, `tieout run`): stderr empty, where Spark's defaults printed four
lines of start-up warnings."""

from __future__ import annotations

from tieout.engines.spark import LOG_CONFIG, session_conf

OPTION = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"


def test_a_session_tieout_starts_logs_with_its_own_configuration() -> None:
    conf = session_conf({"spark.sql.shuffle.partitions": 8, "spark.sql.adaptive.enabled": False})
    assert conf == {"spark.sql.shuffle.partitions": "8", "spark.sql.adaptive.enabled": "false",
                    "spark.driver.extraJavaOptions": OPTION}
    text = LOG_CONFIG.read_text(encoding="utf-8")
    assert "rootLogger.level = error" in text and "target = SYSTEM_ERR" in text


def test_the_users_java_options_are_kept_and_their_log_configuration_wins() -> None:
    assert session_conf({"spark.driver.extraJavaOptions": "-Xss4m"}) == {
        "spark.driver.extraJavaOptions": f"{OPTION} -Xss4m"}
    own = "-Dlog4j2.configurationFile=/etc/spark/log4j2.properties -Xss4m"
    assert session_conf({"spark.driver.extraJavaOptions": own}) == {"spark.driver.extraJavaOptions": own}
