from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])


class JoinForm(FlaskForm):
    organisation_name = StringField("Organisation", validators=[DataRequired(), Length(max=200)])
    admin_name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    admin_email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    admin_mobile = StringField("Mobile", validators=[Optional(), Length(max=32)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])
