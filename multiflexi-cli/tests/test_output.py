def test_a_core_message_is_plain_text_in_yaml_and_json():
    from multiflexi.cli.output import to_json, to_yaml
    from multiflexi.core.texts import msg

    said = msg("every {n} minutes", n=5)
    assert to_yaml({"schedule": said}) == "schedule: every 5 minutes\n"
    assert to_json({"schedule": said}) == '{\n  "schedule": "every 5 minutes"\n}'
